/* store.c - LMDB environment and helpers (see store.h). */
#include "store.h"

#include "clock.h"
#include "err.h"
#include "logger.h"
#include "wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_META_CACHE 8     /* meta values cached per transaction */
#define STORE_META_NAME_MAX 48 /* longer names bypass the cache */

struct store {
    MDB_env *env;                     /* the environment */
    int lock_fd;                      /* flock()ed: one owner per store */
    int ndbs;                         /* entries used in names/dbis */
    const char *names[STORE_MAX_DBS]; /* database names, borrowed */
    MDB_dbi dbis[STORE_MAX_DBS];      /* their handles */
    MDB_dbi meta;                     /* shortcut to "meta" */
    uint64_t epoch;                   /* random, fixed at creation */

    /*
     * Meta values the current write transaction read or set, written
     * back at its commit. A service moves several counters (last_id,
     * outbox_next) once per message or more, and a get and a put of each
     * every time were about a tenth of its LMDB calls.
     */
    MDB_txn *mc_txn; /* the top-level write transaction; NULL: none */
    int nmc;
    struct {
        char name[STORE_META_NAME_MAX];
        uint64_t value;
        bool dirty; /* set, not yet written */
    } mc[STORE_META_CACHE];

    /*
     * Top-level write transactions, numbered as they begin, so that code
     * keeping state in memory beside the store (hashidx.h) can tell
     * whether what it did in one of them committed.
     */
    MDB_txn *top_txn;     /* the open one; NULL: none */
    uint64_t top_gen;     /* its number, or the last one's */
    uint64_t aborted_gen; /* the last one known not to have committed */
};

int store_err(int rc, const char *what)
{
    if (rc == 0)
        return KY_OK;
    if (rc == MDB_NOTFOUND)
        return KY_ENOTFOUND;
    if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL)
        log_error("event=store_full op=%s err=\"%s\"", what, mdb_strerror(rc));
    else
        log_error("event=store_error op=%s err=\"%s\"", what, mdb_strerror(rc));
    return rc == MDB_MAP_FULL || rc == MDB_TXN_FULL ? KY_EFULL : KY_ESTORE;
}

static int open_dbs(store_t *st, const char *const *names)
{
    static const char *own[] = {"meta", "outbox", "peers", NULL};
    MDB_txn *txn;
    int rc;

    rc = mdb_txn_begin(st->env, NULL, 0, &txn);
    if (rc)
        return store_err(rc, "begin");
    for (int pass = 0; pass < 2; pass++) {
        const char *const *list = pass == 0 ? own : names;
        for (; list && *list; list++) {
            if (st->ndbs == STORE_MAX_DBS) {
                mdb_txn_abort(txn);
                return KY_ECONFIG;
            }
            rc = mdb_dbi_open(txn, *list, MDB_CREATE, &st->dbis[st->ndbs]);
            if (rc) {
                mdb_txn_abort(txn);
                return store_err(rc, "dbi_open");
            }
            st->names[st->ndbs++] = *list;
        }
    }
    return store_err(mdb_txn_commit(txn), "commit");
}

/*
 * Takes the store's lock file. LMDB itself lets many processes share an
 * environment, but each keyuan store has one owner: a second service
 * started on the same directory would split the work and strand its
 * outbox, so it is refused at start.
 */
static int store_lock(store_t *st, const char *dir)
{
    char path[4096];

    snprintf(path, sizeof path, "%s/keyuan.lock", dir);
    st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (st->lock_fd < 0) {
        log_error("event=store_lock_failed dir=%s errno=%d", dir, errno);
        return KY_EIO;
    }
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        log_error("event=store_in_use dir=%s detail=\"another process owns "
                  "this store\"",
                  dir);
        close(st->lock_fd);
        return KY_ECONFIG;
    }
    return KY_OK;
}

/* Reads the store's epoch, choosing one when the store is new. */
static int load_epoch(store_t *st)
{
    MDB_txn *txn;
    int rc;

    rc = store_begin(st, NULL, false, &txn);
    if (rc)
        return rc;
    rc = store_meta_get(st, txn, "epoch", &st->epoch);
    if (rc == 0 && st->epoch == 0) {
        while (st->epoch == 0)
            if (getrandom(&st->epoch, sizeof st->epoch, 0) < 0)
                st->epoch = (uint64_t)clock_mono_ms() ^ (uint64_t)getpid();
        rc = store_meta_put(st, txn, "epoch", st->epoch);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return store_commit(txn);
}

/*
 * Makes dir and any parent it lacks (like mkdir -p), so that a first start
 * with the default var/<service> works in a fresh checkout. Parents get
 * 0755, dir itself 0700: the state is the service's alone.
 */
static int make_dirs(const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

store_t *store_open(const char *dir, const char *const *names, size_t map_mb,
                    int *err)
{
    store_t *st = calloc(1, sizeof *st);
    int rc;

    if (st == NULL) {
        *err = KY_ENOMEM;
        return NULL;
    }
    if (make_dirs(dir) < 0) {
        log_error("event=store_mkdir_failed dir=%s errno=%d", dir, errno);
        *err = KY_EIO;
        goto fail_alloc;
    }
    *err = store_lock(st, dir);
    if (*err)
        goto fail_alloc;
    rc = mdb_env_create(&st->env);
    if (rc) {
        *err = store_err(rc, "env_create");
        goto fail_lock;
    }
    mdb_env_set_maxdbs(st->env, STORE_MAX_DBS);
    mdb_env_set_mapsize(st->env, map_mb * 1024 * 1024);
    rc = mdb_env_open(st->env, dir, 0, 0600);
    if (rc) {
        *err = store_err(rc, "env_open");
        goto fail_env;
    }
    *err = open_dbs(st, names);
    if (*err)
        goto fail_env;
    st->meta = store_db(st, "meta");
    mdb_env_set_userctx(st->env, st); /* for store_commit() */
    *err = load_epoch(st);
    if (*err)
        goto fail_env;
    return st;

fail_env:
    mdb_env_close(st->env);
fail_lock:
    close(st->lock_fd);
fail_alloc:
    free(st);
    return NULL;
}

void store_destroy(store_t **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    mdb_env_close((*sp)->env);
    close((*sp)->lock_fd);
    free(*sp);
    *sp = NULL;
}

MDB_env *store_env(const store_t *st)
{
    return st->env;
}

uint64_t store_epoch(const store_t *st)
{
    return st->epoch;
}

MDB_dbi store_db(const store_t *st, const char *name)
{
    /* Callers pass the literals they opened with, and the linker merges
     * equal literals: comparing pointers first spares the hot paths a
     * string compare per database per lookup. */
    for (int i = 0; i < st->ndbs; i++)
        if (st->names[i] == name)
            return st->dbis[i];
    for (int i = 0; i < st->ndbs; i++)
        if (strcmp(st->names[i], name) == 0)
            return st->dbis[i];
    /* A name not given at open is a programming error, not bad input. */
    log_error("event=unknown_db name=%s", name);
    abort();
}

/* Writes the cached meta values txn set into the meta database. */
static int meta_flush(store_t *st, MDB_txn *txn)
{
    for (int i = 0; i < st->nmc; i++) {
        uint8_t buf[8];
        int rc;

        if (!st->mc[i].dirty)
            continue;
        wire_put_u64(buf, st->mc[i].value);
        rc = store_put(txn, st->meta, st->mc[i].name, strlen(st->mc[i].name),
                       buf, 8, 0);
        if (rc)
            return rc;
        st->mc[i].dirty = false;
    }
    return KY_OK;
}

int store_begin(store_t *st, MDB_txn *parent, bool readonly, MDB_txn **txn)
{
    int rc;

    /* A nested transaction reads meta from the database: write back what
     * the parent cached, and cache nothing more in this transaction. */
    if (parent && parent == st->mc_txn) {
        if ((rc = meta_flush(st, parent)) != KY_OK)
            return rc;
        st->mc_txn = NULL;
    }
    rc = mdb_txn_begin(st->env, parent, readonly ? MDB_RDONLY : 0, txn);
    if (rc == 0 && !readonly && parent == NULL) {
        st->mc_txn = *txn; /* what an earlier one cached is gone with it */
        st->nmc = 0;
        /* One still open here ended with a bare mdb_txn_abort(). */
        if (st->top_txn)
            st->aborted_gen = st->top_gen;
        st->top_txn = *txn;
        st->top_gen++;
    }
    return store_err(rc, "begin");
}

/* Notes the end of txn when it is the top-level write transaction. */
static void top_end(store_t *st, MDB_txn *txn, bool committed)
{
    if (st == NULL || txn != st->top_txn)
        return;
    st->top_txn = NULL;
    if (!committed)
        st->aborted_gen = st->top_gen;
}

void store_abort(MDB_txn *txn)
{
    top_end(mdb_env_get_userctx(mdb_txn_env(txn)), txn, false);
    mdb_txn_abort(txn);
}

uint64_t store_write_gen(const store_t *st)
{
    return st->top_txn ? st->top_gen : 0;
}

bool store_gen_aborted(const store_t *st, uint64_t gen)
{
    return gen <= st->aborted_gen;
}

int store_commit(MDB_txn *txn)
{
    store_t *st = mdb_env_get_userctx(mdb_txn_env(txn));
    int rc = KY_OK;

    if (st && txn == st->mc_txn) {
        rc = meta_flush(st, txn);
        st->mc_txn = NULL;
    }
    if (rc) {
        store_abort(txn);
        return rc;
    }
    rc = mdb_txn_commit(txn);
    top_end(st, txn, rc == 0);
    return store_err(rc, "commit");
}

int store_get(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
              MDB_val *val)
{
    MDB_val k = {klen, (void *)key};
    int rc = mdb_get(txn, db, &k, val);

    return rc == MDB_NOTFOUND ? KY_ENOTFOUND : store_err(rc, "get");
}

int store_put(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
              const void *val, size_t vlen, unsigned flags)
{
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    int rc = mdb_put(txn, db, &k, &v, flags);

    if (rc == MDB_KEYEXIST)
        return KY_EEXISTS;
    return store_err(rc, "put");
}

int store_put_msg(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
                  const ProtobufCMessage *msg)
{
    MDB_val k = {klen, (void *)key};
    MDB_val v = {protobuf_c_message_get_packed_size(msg), NULL};
    int rc = mdb_put(txn, db, &k, &v, MDB_RESERVE);

    if (rc)
        return store_err(rc, "put_msg");
    protobuf_c_message_pack(msg, v.mv_data);
    return KY_OK;
}

int store_append_msg(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
                     const ProtobufCMessage *msg)
{
    MDB_val k = {klen, (void *)key};
    MDB_val v = {protobuf_c_message_get_packed_size(msg), NULL};
    int rc = mdb_put(txn, db, &k, &v, MDB_RESERVE | MDB_APPEND);

    if (rc == MDB_KEYEXIST) /* not the last key after all */
        return store_put_msg(txn, db, key, klen, msg);
    if (rc)
        return store_err(rc, "append_msg");
    protobuf_c_message_pack(msg, v.mv_data);
    return KY_OK;
}

int store_unpack(const MDB_val *v, const ProtobufCMessageDescriptor *desc,
                 ProtobufCMessage **out)
{
    *out = protobuf_c_message_unpack(desc, NULL, v->mv_size, v->mv_data);
    if (*out == NULL) {
        log_error("event=stored_record_corrupt type=%s", desc->name);
        return KY_EDECODE;
    }
    return KY_OK;
}

int store_get_msg(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen,
                  const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out)
{
    MDB_val v;
    int rc = store_get(txn, db, key, klen, &v);

    return rc ? rc : store_unpack(&v, desc, out);
}

int store_del(MDB_txn *txn, MDB_dbi db, const void *key, size_t klen)
{
    MDB_val k = {klen, (void *)key};
    int rc = mdb_del(txn, db, &k, NULL);

    return rc == MDB_NOTFOUND ? KY_OK : store_err(rc, "del");
}

/* The cache slot of name in txn's cache, added when add; -1 if none. */
static int meta_slot(store_t *st, MDB_txn *txn, const char *name, bool add)
{
    if (txn != st->mc_txn || strlen(name) >= STORE_META_NAME_MAX)
        return -1;
    for (int i = 0; i < st->nmc; i++)
        if (strcmp(st->mc[i].name, name) == 0)
            return i;
    if (!add || st->nmc == STORE_META_CACHE)
        return -1;
    strcpy(st->mc[st->nmc].name, name);
    st->mc[st->nmc].dirty = false;
    return st->nmc++;
}

static int meta_read(store_t *st, MDB_txn *txn, const char *name, uint64_t *v)
{
    MDB_val val;
    int rc = store_get(txn, st->meta, name, strlen(name), &val);

    *v = 0;
    if (rc == KY_ENOTFOUND)
        return KY_OK;
    if (rc)
        return rc;
    if (val.mv_size != 8)
        return KY_EDECODE;
    *v = wire_get_u64(val.mv_data);
    return KY_OK;
}

int store_meta_get(store_t *st, MDB_txn *txn, const char *name, uint64_t *v)
{
    int slot = meta_slot(st, txn, name, false), rc;

    if (slot >= 0) {
        *v = st->mc[slot].value;
        return KY_OK;
    }
    if ((rc = meta_read(st, txn, name, v)) != KY_OK)
        return rc;
    if ((slot = meta_slot(st, txn, name, true)) >= 0)
        st->mc[slot].value = *v;
    return KY_OK;
}

int store_meta_put(store_t *st, MDB_txn *txn, const char *name, uint64_t v)
{
    int slot = meta_slot(st, txn, name, true);
    uint8_t buf[8];

    if (slot >= 0) {
        st->mc[slot].value = v;
        st->mc[slot].dirty = true;
        return KY_OK;
    }
    wire_put_u64(buf, v);
    return store_put(txn, st->meta, name, strlen(name), buf, 8, 0);
}

int store_next_id(store_t *st, MDB_txn *txn, uint64_t *id)
{
    uint64_t last, candidate = (uint64_t)clock_now_ms() << 20;
    int rc = store_meta_get(st, txn, "last_id", &last);

    if (rc)
        return rc;
    *id = candidate > last ? candidate : last + 1;
    return store_meta_put(st, txn, "last_id", *id);
}

uint64_t store_count(MDB_txn *txn, MDB_dbi db)
{
    MDB_stat stat;

    if (mdb_stat(txn, db, &stat) != 0)
        return 0;
    return stat.ms_entries;
}
