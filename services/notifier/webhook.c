/* webhook.c - reminder POSTs over libcurl's multi interface (see webhook.h). */
#include "webhook.h"

#include "err.h"
#include "logger.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One POST in flight. */
typedef struct transfer {
    struct transfer *next;
    CURL *easy;
    struct curl_slist *headers;
    char *body; /* owned; curl reads it in place */
    uint64_t reminder_id;
    uint8_t channel;
} transfer_t;

struct notify_webhook {
    CURLM *multi;
    transfer_t *flying; /* transfers in flight, newest first */
    int active;         /* length of flying */
};

notify_webhook_t *notify_webhook_new(int *err)
{
    notify_webhook_t *w = calloc(1, sizeof *w);

    if (w == NULL || (w->multi = curl_multi_init()) == NULL) {
        free(w);
        *err = KY_ENOMEM;
        return NULL;
    }
    return w;
}

static void transfer_free(notify_webhook_t *w, transfer_t *t)
{
    if (t->easy) {
        curl_multi_remove_handle(w->multi, t->easy);
        curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->headers);
    free(t->body);
    free(t);
}

void notify_webhook_destroy(notify_webhook_t **wp)
{
    notify_webhook_t *w;

    if (wp == NULL || *wp == NULL)
        return;
    w = *wp;
    while (w->flying) {
        transfer_t *t = w->flying;

        w->flying = t->next;
        transfer_free(w, t);
    }
    curl_multi_cleanup(w->multi);
    free(w);
    *wp = NULL;
}

void notify_webhook_sign(const char *secret, const void *body, size_t len,
                         char hex[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];

    /* The init/update/final form takes a key of any length, as HMAC does;
     * crypto_auth_hmacsha256() itself wants exactly 32 bytes. */
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
                                strlen(secret));
    crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, 65, mac, sizeof mac);
}

/* Discards the response body: the status code is the answer. */
static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

static struct curl_slist *add_header(struct curl_slist *list, bool *ok,
                                     const char *fmt, const char *value)
{
    char line[160];
    struct curl_slist *grown;

    snprintf(line, sizeof line, fmt, value);
    grown = curl_slist_append(list, line);
    if (grown == NULL)
        *ok = false;
    return grown ? grown : list;
}

static int transfer_headers(transfer_t *t, const char *secret, size_t len)
{
    char id[24], sig[65];
    bool ok = true;

    snprintf(id, sizeof id, "%llu", (unsigned long long)t->reminder_id);
    t->headers = add_header(NULL, &ok, "%s", "Content-Type: application/json");
    t->headers = add_header(t->headers, &ok, "Idempotency-Key: %s", id);
    t->headers = add_header(t->headers, &ok, "X-Keyuan-Reminder-Id: %s", id);
    /* No "Expect: 100-continue" round trip for small bodies. */
    t->headers = add_header(t->headers, &ok, "%s", "Expect:");
    if (secret && *secret) {
        notify_webhook_sign(secret, t->body, len, sig);
        t->headers = add_header(t->headers, &ok, "X-Keyuan-Signature: %s", sig);
    }
    return ok ? KY_OK : KY_ENOMEM;
}

static int transfer_setup(transfer_t *t, const char *url, size_t len)
{
    CURL *e = t->easy;
    bool bad = false;

    bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != 0;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers) != 0;
    bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body) != 0;
    bad |=
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != 0;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                            (long)NOTIFY_WEBHOOK_TIMEOUT_MS) != 0;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != 0;
    bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "keyuan-notifier") != 0;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard) != 0;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, t) != 0;
    return bad ? KY_ENOMEM : KY_OK;
}

int notify_webhook_start(notify_webhook_t *w, const char *url,
                         const char *secret, uint64_t reminder_id,
                         uint8_t channel, char *body, size_t len)
{
    transfer_t *t;
    int rc = KY_ENOMEM;

    if (w->active >= NOTIFY_WEBHOOK_MAX_FLIGHT) {
        free(body);
        return KY_EAGAIN;
    }
    t = calloc(1, sizeof *t);
    if (t == NULL) {
        free(body);
        return KY_ENOMEM;
    }
    t->body = body;
    t->reminder_id = reminder_id;
    t->channel = channel;
    if ((t->easy = curl_easy_init()) != NULL &&
        (rc = transfer_headers(t, secret, len)) == 0 &&
        (rc = transfer_setup(t, url, len)) == 0 &&
        curl_multi_add_handle(w->multi, t->easy) != CURLM_OK)
        rc = KY_ENOMEM;
    if (rc) {
        curl_easy_cleanup(t->easy);
        t->easy = NULL;
        transfer_free(w, t);
        return rc;
    }
    t->next = w->flying;
    w->flying = t;
    w->active++;
    return KY_OK;
}

bool notify_webhook_busy(const notify_webhook_t *w, uint64_t reminder_id,
                         uint8_t channel)
{
    for (const transfer_t *t = w->flying; t; t = t->next)
        if (t->reminder_id == reminder_id && t->channel == channel)
            return true;
    return false;
}

int notify_webhook_active(const notify_webhook_t *w)
{
    return w->active;
}

enum notify_result notify_webhook_classify(int curl_code, long http_status)
{
    if (curl_code != CURLE_OK)
        return curl_code == CURLE_URL_MALFORMAT ||
                       curl_code == CURLE_UNSUPPORTED_PROTOCOL
                   ? NOTIFY_FAIL
                   : NOTIFY_RETRY;
    if (http_status >= 200 && http_status < 300)
        return NOTIFY_OK;
    if (http_status == 408 || http_status == 425 || http_status == 429 ||
        http_status >= 500)
        return NOTIFY_RETRY;
    return NOTIFY_FAIL;
}

/* Fills out from finished transfer t and frees it. */
static void transfer_finish(notify_webhook_t *w, transfer_t *t, CURLcode code,
                            notify_outcome_t *out)
{
    long status = 0;
    curl_off_t after = 0;
    transfer_t **pp;

    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &after);
    memset(out, 0, sizeof *out);
    out->reminder_id = t->reminder_id;
    out->channel = t->channel;
    out->result = notify_webhook_classify(code, status);
    if (after > 0 && after < 24 * 3600)
        out->retry_after_ms = (int64_t)after * 1000;
    /* No URL or response text: a URL may hold a bot's secret key. */
    if (code != CURLE_OK)
        snprintf(out->error, sizeof out->error, "curl: %s",
                 curl_easy_strerror(code));
    else if (out->result != NOTIFY_OK)
        snprintf(out->error, sizeof out->error, "http status %ld", status);

    for (pp = &w->flying; *pp != t; pp = &(*pp)->next)
        ;
    *pp = t->next;
    w->active--;
    transfer_free(w, t);
}

int notify_webhook_collect(notify_webhook_t *w, notify_outcome_t *out, int max)
{
    CURLMsg *m;
    int running, left, n = 0;

    if (curl_multi_perform(w->multi, &running) != CURLM_OK)
        return KY_EIO;
    while (n < max && (m = curl_multi_info_read(w->multi, &left)) != NULL) {
        transfer_t *t;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        transfer_finish(w, t, m->data.result, &out[n++]);
    }
    return n;
}

void notify_webhook_wait(notify_webhook_t *w, int timeout_ms)
{
    int numfds;

    curl_multi_poll(w->multi, NULL, 0, timeout_ms, &numfds);
}
