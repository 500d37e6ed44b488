/*
 * webhook.h - the generic JSON webhook: POSTs of reminders over libcurl's
 * multi interface, so the service loop never waits for HTTP.
 *
 * Each POST carries the reminder in proto3 JSON and the headers
 *   Content-Type: application/json
 *   Idempotency-Key: <reminder_id>
 *   X-Keyuan-Reminder-Id: <reminder_id>
 *   X-Keyuan-Signature: <hex HMAC-SHA256 of the body>   (with a secret)
 * A POST whose success the notifier could not commit before it stopped is
 * sent again after a restart with the same Idempotency-Key: receivers must
 * treat a key they have seen as already done.
 *
 * 2xx is delivered; 408, 425, 429, 5xx, a timeout or a connection error
 * is worth retrying; any other status (including redirects, which are not
 * followed) is a dead letter, as is a URL curl cannot use.
 */
#ifndef KEYUAN_NOTIFY_WEBHOOK_H
#define KEYUAN_NOTIFY_WEBHOOK_H

#include "job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOTIFY_WEBHOOK_MAX_FLIGHT 16    /* transfers at once */
#define NOTIFY_WEBHOOK_TIMEOUT_MS 10000 /* whole transfer, connect included */

typedef struct notify_webhook notify_webhook_t;

/* Creates the transfer set. curl_global_init must have run. */
notify_webhook_t *notify_webhook_new(int *err);

/* Aborts transfers still in flight (their jobs stay pending); nulls *wp. */
void notify_webhook_destroy(notify_webhook_t **wp);

/*
 * Starts the POST of body (len bytes; ownership passes here, even on
 * error) for job (reminder_id, channel) to url, signed with secret when
 * it is not NULL or empty. url and secret must outlive the transfer.
 * Returns 0, KY_ENOMEM or KY_EAGAIN (set full).
 */
int notify_webhook_start(notify_webhook_t *w, const char *url,
                         const char *secret, uint64_t reminder_id,
                         uint8_t channel, char *body, size_t len);

/* True while a transfer for (reminder_id, channel) is in flight. */
bool notify_webhook_busy(const notify_webhook_t *w, uint64_t reminder_id,
                         uint8_t channel);

/* Transfers in flight. */
int notify_webhook_active(const notify_webhook_t *w);

/*
 * Moves the transfers along without blocking and writes the outcome of
 * each finished one to out (room for max). Returns how many, or a
 * negative code.
 */
int notify_webhook_collect(notify_webhook_t *w, notify_outcome_t *out, int max);

/* Waits up to timeout_ms for transfer activity (used when draining). */
void notify_webhook_wait(notify_webhook_t *w, int timeout_ms);

/* Writes the hex HMAC-SHA256 of body under secret into hex (65 bytes). */
void notify_webhook_sign(const char *secret, const void *body, size_t len,
                         char hex[65]);

/* What a finished transfer means (curl_code: a CURLcode). */
enum notify_result notify_webhook_classify(int curl_code, long http_status);

#endif
