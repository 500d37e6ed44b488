/*
 * phone.h - phone numbers to E.164, the form intake matches customers on.
 *
 * libphonenumber would be the usual choice, but it is C++ and large; keyuan
 * needs only what Chinese lead sources send: mainland mobiles and landlines
 * written every way people write them (full-width digits, spaces, dashes,
 * brackets, +86 / 0086 / 86 prefixes), and foreign numbers given with
 * their country code, which are kept as given.
 */
#ifndef KEYUAN_PHONE_H
#define KEYUAN_PHONE_H

#include <stddef.h>

#define PHONE_E164_MAX 24 /* "+" 15 digits, ",ext" and NUL fit */

/*
 * Normalises raw into out (PHONE_E164_MAX bytes): "+8613800138000",
 * "+861062345678", "+14155550100". A landline extension is kept after a
 * comma: "+861062345678,123". Returns 0, or KY_EINVAL when raw cannot be a
 * phone number; then *why (when why is not NULL) is set to a short static
 * reason in English.
 */
int phone_normalize(const char *raw, char *out, size_t outlen,
                    const char **why);

#endif
