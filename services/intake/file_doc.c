/*
 * file_doc.c - JSON operations on a customer file (see file_doc.h).
 *
 * Three parts: comparing text (name_equal), paths (check, get, set), and
 * the walks over whole documents (merge, prune, project, diff, undo).
 */
#include "file_doc.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- text ----------------------------------------------------------- */

static bool is_space(utf8proc_int32_t cp)
{
    utf8proc_category_t c;

    if (cp == ' ' || (cp >= '\t' && cp <= '\r'))
        return true;
    c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL ||
           c == UTF8PROC_CATEGORY_ZP;
}

void file_doc_trim(const char **s, size_t *len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)*s;
    size_t start = 0, end = 0, at = 0;
    bool seen = false;

    while (at < *len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate(p + at, (utf8proc_ssize_t)(*len - at), &cp);

        if (n <= 0)
            return; /* not UTF-8: leave it whole */
        if (!is_space(cp)) {
            if (!seen)
                start = at;
            seen = true;
            end = at + (size_t)n;
        }
        at += (size_t)n;
    }
    *s += start;
    *len = seen ? end - start : 0;
}

bool file_doc_blank(const char *s)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = s ? (utf8proc_ssize_t)strlen(s) : 0;

    /* Stops at the first character that is not a space: most text is
     * decided by its first one. */
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);

        if (n <= 0 || !is_space(cp))
            return false;
        p += n;
        left -= n;
    }
    return true;
}

void file_doc_drop_blanks(json_t *doc)
{
    const char *key;
    json_t *val;
    void *tmp;

    json_object_foreach_safe(doc, tmp, key, val)
    {
        if (json_is_object(val))
            file_doc_drop_blanks(val);
        else if (json_is_string(val) && file_doc_blank(json_string_value(val)))
            json_object_del(doc, key);
    }
}

bool name_equal(const char *a, const char *b)
{
    utf8proc_uint8_t *na, *nb;
    const char *ta, *tb;
    size_t la, lb;
    bool same;

    na = utf8proc_NFC((const utf8proc_uint8_t *)(a ? a : ""));
    nb = utf8proc_NFC((const utf8proc_uint8_t *)(b ? b : ""));
    if (na == NULL || nb == NULL) {
        same = strcmp(a ? a : "", b ? b : "") == 0;
        goto done;
    }
    ta = (const char *)na;
    tb = (const char *)nb;
    la = strlen(ta);
    lb = strlen(tb);
    file_doc_trim(&ta, &la);
    file_doc_trim(&tb, &lb);
    same = la == lb && memcmp(ta, tb, la) == 0;

done:
    free(na);
    free(nb);
    return same;
}

/* Same value, comparing text (also in lists) with name_equal(). */
static bool same_value(const json_t *a, const json_t *b)
{
    if (json_is_string(a) && json_is_string(b))
        return name_equal(json_string_value(a), json_string_value(b));
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_value(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

/* ---- paths ---------------------------------------------------------- */

/* True when key is the lowerCamelCase form of the proto name name. */
static bool camel_equal(const char *name, const char *key)
{
    bool upper = false;

    for (; *name; name++) {
        char want;

        if (*name == '_') {
            upper = true;
            continue;
        }
        want =
            upper && *name >= 'a' && *name <= 'z' ? *name - 'a' + 'A' : *name;
        if (*key++ != want)
            return false;
        upper = false;
    }
    return *key == '\0';
}

/* Appends the JSON name of proto name name to out (at *n of cap). */
static bool camel_append(char *out, size_t cap, size_t *n, const char *name)
{
    bool upper = false;

    for (; *name; name++) {
        if (*name == '_') {
            upper = true;
            continue;
        }
        if (*n + 1 >= cap)
            return false;
        out[(*n)++] = upper && *name >= 'a' && *name <= 'z'
                          ? (char)(*name - 'a' + 'A')
                          : *name;
        upper = false;
    }
    out[*n] = '\0';
    return true;
}

void file_doc_json_name(const char *name, char *out, size_t outlen)
{
    size_t n = 0;

    if (outlen == 0)
        return;
    out[0] = '\0';
    camel_append(out, outlen, &n, name);
}

const ProtobufCFieldDescriptor *
file_doc_field(const ProtobufCMessageDescriptor *desc, const char *key)
{
    for (unsigned i = 0; i < desc->n_fields; i++)
        if (camel_equal(desc->fields[i].name, key) ||
            strcmp(desc->fields[i].name, key) == 0)
            return &desc->fields[i];
    return NULL;
}

static bool is_timestamp(const ProtobufCMessageDescriptor *desc)
{
    return strcmp(desc->name, "google.protobuf.Timestamp") == 0;
}

/* A field holding one message that paths and merges may go into. */
static bool is_submessage(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_MESSAGE &&
           f->label != PROTOBUF_C_LABEL_REPEATED &&
           !is_timestamp(f->descriptor);
}

int file_doc_path_check(const ProtobufCMessageDescriptor *desc,
                        const char *path, char *out, size_t outlen)
{
    const char *seg = path;
    size_t n = 0;

    if (outlen == 0)
        return KY_EINVAL;
    out[0] = '\0';
    for (;;) {
        const char *dot = strchr(seg, '.');
        size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
        char key[FILE_DOC_PATH_MAX];
        const ProtobufCFieldDescriptor *f;

        if (len == 0 || len >= sizeof key)
            return KY_EINVAL;
        memcpy(key, seg, len);
        key[len] = '\0';
        if ((f = file_doc_field(desc, key)) == NULL ||
            (n > 0 && !camel_append(out, outlen, &n, ".")) ||
            !camel_append(out, outlen, &n, f->name))
            return KY_EINVAL;
        if (dot == NULL)
            return KY_OK;
        if (!is_submessage(f))
            return KY_EINVAL;
        desc = f->descriptor;
        seg = dot + 1;
    }
}

/* Copies the first segment of *path into key and moves *path past it. */
static bool next_segment(const char **path, char *key, size_t cap)
{
    const char *dot = strchr(*path, '.');
    size_t len = dot ? (size_t)(dot - *path) : strlen(*path);

    if (len == 0 || len >= cap)
        return false;
    memcpy(key, *path, len);
    key[len] = '\0';
    *path = dot ? dot + 1 : NULL;
    return true;
}

json_t *file_doc_get(const json_t *doc, const char *path)
{
    char key[FILE_DOC_PATH_MAX];
    json_t *v = (json_t *)doc;

    while (path && v) {
        if (!json_is_object(v) || !next_segment(&path, key, sizeof key))
            return NULL;
        v = json_object_get(v, key);
    }
    return v;
}

int file_doc_set(json_t *doc, const char *path, const json_t *value)
{
    char key[FILE_DOC_PATH_MAX];
    json_t *child;
    int rc;

    if (!json_is_object(doc) || !next_segment(&path, key, sizeof key))
        return KY_EINVAL;
    if (path == NULL) {
        if (value == NULL) {
            json_object_del(doc, key);
            return KY_OK;
        }
        return json_object_set_new(doc, key, json_deep_copy(value)) ? KY_ENOMEM
                                                                    : KY_OK;
    }
    child = json_object_get(doc, key);
    if (value == NULL && !json_is_object(child))
        return KY_OK; /* nothing there to remove */
    if (child == NULL) {
        if (json_object_set_new(doc, key, child = json_object()) != 0)
            return KY_ENOMEM;
    }
    rc = file_doc_set(child, path, value);
    if (rc == KY_OK && json_is_object(child) && json_object_size(child) == 0)
        json_object_del(doc, key);
    return rc;
}

/* ---- whole documents ------------------------------------------------ */

/* A message type merged and replaced whole, like a scalar. */
static bool is_value_type(const ProtobufCMessageDescriptor *desc)
{
    return strcmp(desc->name, "keyuan.v1.CivilDate") == 0 ||
           strcmp(desc->name, "keyuan.v1.NextStep") == 0;
}

int file_doc_merge(json_t *dst, const json_t *src,
                   const ProtobufCMessageDescriptor *desc, bool keep)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)src, key, val)
    {
        const ProtobufCFieldDescriptor *f = file_doc_field(desc, key);
        json_t *cur = json_object_get(dst, key);

        if (f == NULL)
            continue;
        if (is_submessage(f) && !is_value_type(f->descriptor) &&
            json_is_object(val)) {
            if (!json_is_object(cur) &&
                json_object_set_new(dst, key, cur = json_object()) != 0)
                return KY_ENOMEM;
            if (file_doc_merge(cur, val, f->descriptor, keep) != KY_OK)
                return KY_ENOMEM;
            continue;
        }
        if (cur && (keep || same_value(cur, val)))
            continue;
        if (json_object_set_new(dst, key, json_deep_copy(val)) != 0)
            return KY_ENOMEM;
    }
    return KY_OK;
}

int file_doc_apply(json_t *dst, const json_t *src,
                   const ProtobufCMessageDescriptor *desc, char *const *paths,
                   size_t n)
{
    char path[FILE_DOC_PATH_MAX];
    int rc = KY_OK;

    if (n == 0)
        return file_doc_merge(dst, src, desc, false);
    for (size_t i = 0; rc == KY_OK && i < n; i++) {
        rc = file_doc_path_check(desc, paths[i], path, sizeof path);
        if (rc == KY_OK)
            rc = file_doc_set(dst, path, file_doc_get(src, path));
    }
    return rc;
}

/* True when list (an array, or NULL) holds a value same_value() as v. */
static bool list_has(const json_t *list, const json_t *v)
{
    for (size_t i = 0; i < json_array_size(list); i++)
        if (same_value(json_array_get(list, i), v))
            return true;
    return false;
}

int file_doc_list_add(json_t *doc, const char *path, const json_t *value)
{
    json_t *list = file_doc_get(doc, path);
    int rc;

    if (list_has(list, value))
        return KY_OK;
    if (list == NULL) {
        json_t *fresh = json_array();

        rc = fresh ? file_doc_set(doc, path, fresh) : KY_ENOMEM;
        json_decref(fresh);
        if (rc)
            return rc;
        list = file_doc_get(doc, path);
    }
    if (!json_is_array(list))
        return KY_EINVAL;
    return json_array_append_new(list, json_deep_copy(value)) ? KY_ENOMEM
                                                              : KY_OK;
}

json_t *file_doc_prune(json_t *doc)
{
    const char *key;
    json_t *val;
    void *tmp;

    json_object_foreach_safe(doc, tmp, key, val)
    {
        if (!json_is_object(val))
            continue;
        file_doc_prune(val);
        if (json_object_size(val) == 0)
            json_object_del(doc, key);
    }
    return doc;
}

json_t *file_doc_project(const json_t *obj,
                         const ProtobufCMessageDescriptor *desc)
{
    json_t *out = json_object();
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val)
    {
        if (out == NULL || file_doc_field(desc, key) == NULL)
            continue;
        if (json_object_set_new(out, key, json_deep_copy(val)) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

/* Sets member name of entry to v as compact JSON text, unless v is NULL. */
static int diff_text(json_t *entry, const char *name, const json_t *v)
{
    char small[256], *text = small;
    size_t len;
    int rc;

    if (v == NULL)
        return KY_OK;
    /* Most values are short: dump into the stack, not a malloc'd buffer. */
    len =
        json_dumpb(v, small, sizeof small - 1, JSON_ENCODE_ANY | JSON_COMPACT);
    if (len >= sizeof small - 1)
        text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    else
        small[len] = '\0';
    if (text == NULL)
        return KY_ENOMEM;
    rc = json_object_set_new(entry, name, json_string(text));
    if (text != small)
        free(text);
    return rc ? KY_ENOMEM : KY_OK;
}

static int diff_leaf(json_t *out, const char *path, const json_t *b,
                     const json_t *a)
{
    json_t *entry;

    if (b && a && json_equal((json_t *)b, (json_t *)a))
        return KY_OK;
    entry = json_object();
    if (entry == NULL || json_array_append_new(out, entry) != 0 ||
        json_object_set_new(entry, "path", json_string(path)) != 0)
        return KY_ENOMEM;
    if (diff_text(entry, "oldJson", b) || diff_text(entry, "newJson", a))
        return KY_ENOMEM;
    return KY_OK;
}

static int diff_walk(json_t *out, const char *prefix, const json_t *b,
                     const json_t *a, const char *const *skip);

/* Compares member key of objects b and a (either may be NULL). */
static int diff_member(json_t *out, const char *prefix, const char *key,
                       const json_t *b, const json_t *a)
{
    size_t lp = strlen(prefix), lk = strlen(key);
    const json_t *vb = b ? json_object_get(b, key) : NULL;
    const json_t *va = a ? json_object_get(a, key) : NULL;
    char path[FILE_DOC_PATH_MAX];

    /* Built by hand: this runs for every field of every file compared. */
    if (lp + lk + 2 > sizeof path)
        return KY_EINVAL; /* the protos nest a few levels, never this deep */
    memcpy(path, prefix, lp);
    if (lp)
        path[lp++] = '.';
    memcpy(path + lp, key, lk + 1);
    if ((vb == NULL || json_is_object(vb)) &&
        (va == NULL || json_is_object(va)))
        return diff_walk(out, path, vb, va, NULL);
    return diff_leaf(out, path, vb, va);
}

static bool skipped(const char *key, const char *const *skip)
{
    for (; skip && *skip; skip++)
        if (strcmp(*skip, key) == 0)
            return true;
    return false;
}

/* Walks the members of b, then those only a has. */
static int diff_walk(json_t *out, const char *prefix, const json_t *b,
                     const json_t *a, const char *const *skip)
{
    const char *key;
    json_t *val;
    int rc = KY_OK;

    json_object_foreach((json_t *)b, key, val)
    {
        if (rc == KY_OK && !skipped(key, skip))
            rc = diff_member(out, prefix, key, b, a);
    }
    json_object_foreach((json_t *)a, key, val)
    {
        if (rc == KY_OK && !skipped(key, skip) &&
            (b == NULL || json_object_get(b, key) == NULL))
            rc = diff_member(out, prefix, key, NULL, a);
    }
    return rc;
}

json_t *file_doc_diff(const json_t *before, const json_t *after,
                      const char *const *skip)
{
    json_t *out = json_array();

    if (out && diff_walk(out, "", before, after, skip) != KY_OK) {
        json_decref(out);
        out = NULL;
    }
    return out;
}

/* A FieldChange's value text as JSON, or NULL for "" (not there). */
static json_t *undo_value(const json_t *entry, const char *name)
{
    const char *text = json_string_value(json_object_get(entry, name));

    if (text == NULL || *text == '\0')
        return NULL;
    return json_loads(text, JSON_DECODE_ANY, NULL);
}

/* cur without the entries that new has and old has not. */
static json_t *undo_list(const json_t *cur, const json_t *old,
                         const json_t *new)
{
    json_t *out = json_array();

    for (size_t i = 0; out && i < json_array_size(cur); i++) {
        json_t *v = json_array_get(cur, i);
        bool added = false, had = false;

        for (size_t j = 0; j < json_array_size(new); j++)
            added = added || json_equal(v, json_array_get(new, j));
        for (size_t j = 0; j < json_array_size(old); j++)
            had = had || json_equal(v, json_array_get(old, j));
        if ((!added || had) && json_array_append(out, v) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

static int undo_one(json_t *doc, const json_t *entry)
{
    const char *path = json_string_value(json_object_get(entry, "path"));
    json_t *old = undo_value(entry, "oldJson");
    json_t *new = undo_value(entry, "newJson");
    json_t *cur = path ? file_doc_get(doc, path) : NULL;
    json_t *list = NULL;
    int rc = KY_OK;

    if (path == NULL)
        goto done;
    if ((cur == NULL && new == NULL) || (cur && new &&json_equal(cur, new))) {
        rc = file_doc_set(doc, path, old);
    } else if (json_is_array(cur) && json_is_array(new)) {
        list = undo_list(cur, json_is_array(old) ? old : NULL, new);
        rc = list ? file_doc_set(doc, path, json_array_size(list) ? list : NULL)
                  : KY_ENOMEM;
    }

done:
    json_decref(list);
    json_decref(old);
    json_decref(new);
    return rc;
}

int file_doc_undo(json_t *doc, const json_t *fields)
{
    int rc = KY_OK;

    for (size_t i = 0; rc == KY_OK && i < json_array_size(fields); i++)
        rc = undo_one(doc, json_array_get(fields, i));
    return rc;
}
