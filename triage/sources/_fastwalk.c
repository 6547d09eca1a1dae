/*
 * triage.sources._fastwalk: the listing walk of triage/sources/walk.py, done in C over libtsk.
 *
 * Why it exists: `exhibit ls -r` must stay within 3x of TSK's own `fls -r -p` (issue 3). Through
 * pytsk3 every entry costs about 15 microseconds of Python (one proxy object per struct, one
 * getattr per field, one dataclass and one JSON line per entry); fls needs about 3. This module
 * walks with libtsk directly and writes the finished `ls` lines (JSON or plain), so Python only
 * sees large blocks of text.
 *
 * It is not a second implementation of what an entry is: triage/sources/walk.py stays the reference, and
 * tests/triage/test_fastwalk.py requires byte-identical output from both on every corpus image.
 * Reading goes through the same custody.media reader as everything else (TSK's "external image"
 * calls back into `reader.read_at`), so evidence is opened once, read-only, by one code path.
 * Names that are not plain printable ASCII are made display-safe by calling back into
 * triage.sanitize.display_name, so escaping rules live in one place.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <tsk/libtsk.h>

#define MAX_DEPTH 128
#define MAX_PATH_BYTES 4096
#define FLUSH_AT (256 * 1024)
#define ATTR_NTFS_DATA 128
#define ATTR_NTFS_IDXROOT 144

/* ---------------------------------------------------------------------------------------------
 * growable byte buffer */

typedef struct {
    char *p;
    size_t len, cap;
} Buf;

static int buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    char *p = PyMem_Realloc(b->p, cap);
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_add(Buf *b, const char *s, size_t n) {
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

static int buf_str(Buf *b, const char *s) { return buf_add(b, s, strlen(s)); }

/* `prefix` then the decimal digits of `v` (snprintf costs more than the rest of a line). */
static int buf_int(Buf *b, const char *prefix, long long v) {
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    if (buf_str(b, prefix) < 0)
        return -1;
    return buf_add(b, p, (size_t)(end - p));
}

/* JSON string of UTF-8 text, escaped like Python's json.encoder.encode_basestring. */
static int buf_json(Buf *b, const char *s, size_t n) {
    if (buf_reserve(b, n * 6 + 2) < 0)
        return -1;
    char *o = b->p + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            *o++ = '\\';
            *o++ = '"';
        } else if (c == '\\') {
            *o++ = '\\';
            *o++ = '\\';
        } else if (c < 0x20) {
            *o++ = '\\';
            switch (c) {
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default: o += sprintf(o, "u%04x", c);
            }
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * TSK external image backed by a Python reader (custody.media.ImageReader.read_at) */

/* The progress counter a guarded walk's parent watches (triage/sources/walkguard.py): bumped at every
 * image read and every entry, in memory shared with the parent. A plain store per event, so it
 * costs nothing of note; `no_progress` points to a local when nobody watches. */
static volatile unsigned long long no_progress;

#include "_tskimage.h"

/* ---------------------------------------------------------------------------------------------
 * the walk */

static const char *META_TYPES[] = {"unknown", "file", "dir", "fifo", "char", "block", "link",
                                   "shadow", "socket", "whiteout", "virtual", "virtual-dir"};
static const char *NAME_TYPES[] = {"unknown", "fifo", "char", "dir", "block", "file", "link",
                                   "socket", "shadow", "whiteout", "virtual", "virtual-dir"};

/* TSK's one-letter names (tsk_fs_name_type_str, tsk_fs_meta_type_str) for fls's "r/r" column */
static const char NAME_LETTERS[] = "-pcdbrlshwvV";
static const char META_LETTERS[] = "-rdpcblshwvV";

static void fls_type(char out[4], unsigned name_type, const TSK_FS_META *meta) {
    out[0] = name_type < 12 ? NAME_LETTERS[name_type] : '-';
    out[1] = '/';
    out[2] = !meta ? '-' : (unsigned)meta->type < 12 ? META_LETTERS[meta->type] : '-';
    out[3] = 0;
}

static const char *meta_type(unsigned t) { return t < 12 ? META_TYPES[t] : "unknown"; }
static const char *name_type(unsigned t) { return t < 12 ? NAME_TYPES[t] : "unknown"; }

#define TIME_SLOTS 4096

typedef struct {
    time_t secs;
    size_t len; /* 0: empty */
    char text[40];
} TimeSlot;

typedef struct {
    TSK_FS_INFO *fs;
    long long offset;
    int is_ntfs, times_local, owners, recursive, deleted_only, as_json;
    const char *fs_type;
    const char *partition;  /* JSON text of the partition offset */
    PyObject *display_name; /* bytes -> str */
    PyObject *write;        /* bytes (UTF-8) -> None */
    PyObject *warn;         /* (path, message) -> None */
    PyObject *known;        /* dict (inode, attr_type, attr_id, path) -> JSON suffix, or NULL */
    const char *null_suffix;
    Buf out;
    Buf path;                        /* display path of the current directory, UTF-8 */
    TSK_INUM_T on_path[MAX_DEPTH + 2];
    int on_path_n;
    long long count;
    PyObject *collect; /* list: append FileEntry-ordered tuples instead of writing lines */
    PyObject *fs_type_obj;
    int failed; /* a Python exception is set: unwind */
    TimeSlot *times; /* TIME_SLOTS formatted seconds */
    volatile unsigned long long *tick; /* see ExtImg.tick */
    PyObject *flush_rows; /* called when `collect` holds ROWS_BATCH rows (it empties it), or NULL */
} Walk;

#define ROWS_BATCH 4096

static int flush(Walk *w) {
    if (w->out.len == 0)
        return 0;
    PyObject *text = PyBytes_FromStringAndSize(w->out.p, (Py_ssize_t)w->out.len);
    if (!text)
        return -1;
    PyObject *r = PyObject_CallOneArg(w->write, text);
    Py_DECREF(text);
    if (!r)
        return -1;
    Py_DECREF(r);
    w->out.len = 0;
    return 0;
}

static int warn(Walk *w, const char *path, size_t path_len, const char *message) {
    PyObject *p = PyUnicode_DecodeUTF8(path_len ? path : "/", path_len ? (Py_ssize_t)path_len : 1,
                                       "surrogateescape");
    if (!p)
        return -1;
    PyObject *r = PyObject_CallFunction(w->warn, "Ns", p, message);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Display form of a name: plain printable ASCII as is, anything else through display_name().
 * The result is written to `dst` (reset first). */
static int display(Walk *w, const char *raw, size_t n, Buf *dst) {
    dst->len = 0;
    int plain = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c < 0x20 || c > 0x7e || c == '\\' || c == '/') {
            plain = 0;
            break;
        }
    }
    if (plain)
        return buf_add(dst, raw, n);
    PyObject *r = PyObject_CallFunction(w->display_name, "y#", raw, (Py_ssize_t)n);
    if (!r)
        return -1;
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(r, &len);
    if (!s) { /* surrogates cannot occur (display_name escapes them); be safe anyway */
        PyErr_Clear();
        PyObject *bytes = PyUnicode_AsEncodedString(r, "utf-8", "surrogateescape");
        Py_DECREF(r);
        if (!bytes)
            return -1;
        int rc = buf_add(dst, PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes));
        Py_DECREF(bytes);
        return rc;
    }
    int rc = buf_add(dst, s, (size_t)len);
    Py_DECREF(r);
    return rc;
}

/* One time stamp as triage.sources.walk.format_time writes it, or `null`. */
/* TSK 4.11 converts an NTFS FILETIME of 0 ("not set") with unsigned arithmetic into
 * (0 - 116444736000000000) / 10^7 truncated to 32 bits = 2076-11-29 08:54:34; TSK 4.15 (pytsk3)
 * reports 0. Shown as "not set", as the pytsk3 walk does. */
#define TSK411_NTFS_ZERO_TIME 3373865674LL

static int add_time(Walk *w, Buf *b, time_t secs, uint32_t nano) {
    if (!secs || (w->is_ntfs && (long long)secs == TSK411_NTFS_ZERO_TIME && !nano))
        return buf_str(b, "null");
    char text[64];
    size_t n;
    TimeSlot *slot = &w->times[(unsigned long long)secs % TIME_SLOTS];
    if (slot->len && slot->secs == secs) { /* walks repeat the same seconds a lot */
        n = slot->len;
        memcpy(text, slot->text, n);
    } else {
        struct tm tm;
        struct tm *ok = w->times_local ? localtime_r(&secs, &tm) : gmtime_r(&secs, &tm);
        n = ok ? strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm) : 0;
        if (!n)
            n = (size_t)snprintf(text, sizeof text, "@%lld", (long long)secs);
        if (n < sizeof slot->text) {
            slot->secs = secs;
            slot->len = n;
            memcpy(slot->text, text, n);
        }
    }
    if (nano) {
        n += (size_t)snprintf(text + n, sizeof text - n, ".%09u", (unsigned)nano);
        while (text[n - 1] == '0')
            n--;
    }
    if (buf_reserve(b, n + 3) < 0)
        return -1;
    b->p[b->len++] = '"';
    memcpy(b->p + b->len, text, n);
    b->len += n;
    if (!w->times_local)
        b->p[b->len++] = 'Z';
    b->p[b->len++] = '"';
    return 0;
}

/* A time stamp as triage.sources.walk.format_time returns it: str, or None when not set. */
static PyObject *time_obj(Walk *w, time_t secs, uint32_t nano) {
    Buf tmp = {0};
    if (add_time(w, &tmp, secs, nano) < 0) {
        PyMem_Free(tmp.p);
        return NULL;
    }
    PyObject *o = tmp.p[0] == 'n' ? Py_NewRef(Py_None)
                                  : PyUnicode_DecodeASCII(tmp.p + 1, (Py_ssize_t)tmp.len - 2, "strict");
    PyMem_Free(tmp.p);
    return o;
}

/* An interned str for the few fixed strings (types, fls columns), made once. */
static PyObject *interned(const char *text) {
    static PyObject *cache = NULL;
    if (!cache && !(cache = PyDict_New()))
        return NULL;
    PyObject *found = PyDict_GetItemString(cache, text); /* borrowed */
    if (found)
        return Py_NewRef(found);
    PyObject *o = PyUnicode_InternFromString(text);
    if (o && PyDict_SetItemString(cache, text, o) < 0)
        Py_CLEAR(o);
    return o;
}

typedef struct {
    const char *path; /* display path, UTF-8 */
    size_t path_len;
    const char *name; /* display name (with ":stream") */
    size_t name_len;
    const char *stream; /* display stream name or NULL */
    size_t stream_len;
    TSK_INUM_T inode;
    int attr_type, attr_id; /* -1: none */
    const char *type;
    long long size;
    int deleted, realloc;
    TSK_FS_META *meta; /* times and owners; NULL: none */
    const char *fls;   /* fls's type column: "r/r" */
    const char *raw;   /* the name as stored (without the stream) */
    size_t raw_len;
} Row;

static int collect(Walk *w, const Row *r);

static int emit(Walk *w, const Row *r) {
    Buf *b = &w->out;
    w->count++;
    (*w->tick)++;
    if (w->collect)
        return collect(w, r);
    if (!w->as_json) { /* fls's line: "r/r * 35-128-1(realloc):\tdir/file" */
        if (buf_str(b, r->fls) < 0 || buf_str(b, " ") < 0)
            return -1;
        if (r->deleted && buf_str(b, "* ") < 0)
            return -1;
        if (buf_int(b, "", (long long)r->inode) < 0)
            return -1;
        if (r->attr_type >= 0) {
            if (buf_int(b, "-", r->attr_type) < 0 || buf_int(b, "-", r->attr_id) < 0)
                return -1;
        }
        if (r->realloc && buf_str(b, "(realloc)") < 0)
            return -1;
        const char *p = r->path;
        size_t n = r->path_len;
        while (n && *p == '/') {
            p++;
            n--;
        }
        if (buf_str(b, ":\t") < 0 || buf_add(b, p, n) < 0 || buf_str(b, "\n") < 0)
            return -1;
        return b->len >= FLUSH_AT ? flush(w) : 0;
    }
    if (buf_str(b, "{\"partition\": ") < 0 || buf_str(b, w->partition) < 0 ||
        buf_str(b, ", \"fs_type\": \"") < 0 || buf_str(b, w->fs_type) < 0 ||
        buf_str(b, "\", \"path\": ") < 0 || buf_json(b, r->path, r->path_len) < 0 ||
        buf_str(b, ", \"name\": ") < 0 || buf_json(b, r->name, r->name_len) < 0 ||
        buf_int(b, ", \"inode\": ", (long long)r->inode) < 0)
        return -1;
    if (r->attr_type >= 0) {
        if (buf_int(b, ", \"attr_type\": ", r->attr_type) < 0 ||
            buf_int(b, ", \"attr_id\": ", r->attr_id) < 0)
            return -1;
    } else if (buf_str(b, ", \"attr_type\": null, \"attr_id\": null") < 0) {
        return -1;
    }
    if (buf_str(b, ", \"stream\": ") < 0)
        return -1;
    if (r->stream ? buf_json(b, r->stream, r->stream_len) < 0 : buf_str(b, "null") < 0)
        return -1;
    if (buf_str(b, ", \"type\": \"") < 0 || buf_str(b, r->type) < 0 ||
        buf_int(b, "\", \"size\": ", r->size) < 0 ||
        buf_str(b, r->deleted ? ", \"deleted\": true" : ", \"deleted\": false") < 0 ||
        buf_str(b, r->realloc ? ", \"realloc\": true" : ", \"realloc\": false") < 0)
        return -1;
    TSK_FS_META *m = r->meta;
    if (buf_str(b, ", \"mtime\": ") < 0 || add_time(w, b, m ? m->mtime : 0, m ? m->mtime_nano : 0) < 0 ||
        buf_str(b, ", \"atime\": ") < 0 || add_time(w, b, m ? m->atime : 0, m ? m->atime_nano : 0) < 0 ||
        buf_str(b, ", \"ctime\": ") < 0 || add_time(w, b, m ? m->ctime : 0, m ? m->ctime_nano : 0) < 0 ||
        buf_str(b, ", \"crtime\": ") < 0 ||
        add_time(w, b, m ? m->crtime : 0, m ? m->crtime_nano : 0) < 0 ||
        buf_str(b, w->times_local ? ", \"times_local\": true" : ", \"times_local\": false") < 0)
        return -1;
    if (m && w->owners && !w->is_ntfs) {
        if (buf_int(b, ", \"mode\": ", (long long)((unsigned)m->mode & 07777)) < 0 ||
            buf_int(b, ", \"uid\": ", (long long)m->uid) < 0 ||
            buf_int(b, ", \"gid\": ", (long long)m->gid) < 0)
            return -1;
    } else if (buf_str(b, ", \"mode\": null, \"uid\": null, \"gid\": null") < 0) {
        return -1;
    }
    const char *suffix = w->null_suffix;
    PyObject *found = NULL;
    if (w->known) {
        PyObject *key = Py_BuildValue(
            "(KNNN)", (unsigned long long)r->inode,
            r->attr_type >= 0 ? PyLong_FromLong(r->attr_type) : Py_NewRef(Py_None),
            r->attr_id >= 0 ? PyLong_FromLong(r->attr_id) : Py_NewRef(Py_None),
            PyUnicode_DecodeUTF8(r->path, (Py_ssize_t)r->path_len, "surrogateescape"));
        if (!key)
            return -1;
        found = PyDict_GetItemWithError(w->known, key); /* borrowed */
        Py_DECREF(key);
        if (!found && PyErr_Occurred())
            return -1;
        if (found && !(suffix = PyUnicode_AsUTF8(found)))
            return -1;
    }
    if (buf_str(b, suffix) < 0)
        return -1;
    return b->len >= FLUSH_AT ? flush(w) : 0;
}

static PyObject *int_or_none(long long v, int present) {
    return present ? PyLong_FromLongLong(v) : Py_NewRef(Py_None);
}

/* The arguments of triage.sources.walk.FileEntry, in field order, appended to w->collect. */
static int collect(Walk *w, const Row *r) {
    TSK_FS_META *m = r->meta;
    int owners = m && w->owners && !w->is_ntfs;
    PyObject *t = PyTuple_New(22);
    if (!t)
        return -1;
    PyObject *items[22] = {
        PyLong_FromLongLong(w->offset),
        Py_NewRef(w->fs_type_obj),
        PyUnicode_DecodeUTF8(r->path, (Py_ssize_t)r->path_len, "surrogateescape"),
        PyUnicode_DecodeUTF8(r->name, (Py_ssize_t)r->name_len, "surrogateescape"),
        PyBytes_FromStringAndSize(r->raw, (Py_ssize_t)r->raw_len),
        PyLong_FromUnsignedLongLong((unsigned long long)r->inode),
        interned(r->type),
        PyLong_FromLongLong(r->size),
        PyBool_FromLong(r->deleted),
        PyBool_FromLong(r->realloc),
        int_or_none(r->attr_type, r->attr_type >= 0),
        int_or_none(r->attr_id, r->attr_id >= 0),
        r->stream ? PyUnicode_DecodeUTF8(r->stream, (Py_ssize_t)r->stream_len, "surrogateescape")
                  : Py_NewRef(Py_None),
        time_obj(w, m ? m->mtime : 0, m ? m->mtime_nano : 0),
        time_obj(w, m ? m->atime : 0, m ? m->atime_nano : 0),
        time_obj(w, m ? m->ctime : 0, m ? m->ctime_nano : 0),
        time_obj(w, m ? m->crtime : 0, m ? m->crtime_nano : 0),
        PyBool_FromLong(w->times_local && !w->is_ntfs),
        int_or_none(m ? (long long)((unsigned)m->mode & 07777) : 0, owners),
        int_or_none(m ? (long long)m->uid : 0, owners),
        int_or_none(m ? (long long)m->gid : 0, owners),
        interned(r->fls),
    };
    int ok = 1;
    for (int i = 0; i < 22; i++) {
        if (!items[i])
            ok = 0;
        PyTuple_SET_ITEM(t, i, items[i] ? items[i] : Py_NewRef(Py_None));
    }
    if (!ok || PyList_Append(w->collect, t) < 0) {
        Py_DECREF(t);
        return -1;
    }
    Py_DECREF(t);
    if (w->flush_rows && PyList_GET_SIZE(w->collect) >= ROWS_BATCH) {
        PyObject *rr = PyObject_CallNoArgs(w->flush_rows);
        if (!rr)
            return -1;
        Py_DECREF(rr);
    }
    return 0;
}

static int on_path(Walk *w, TSK_INUM_T addr) {
    for (int i = 0; i < w->on_path_n; i++)
        if (w->on_path[i] == addr)
            return 1;
    return 0;
}

/* NTFS: one row per $DATA stream and per index other than $I30 (walk._ntfs_streams).
 * Returns 0, -1 (Python error) or 1 (TSK failed: the directory listing is cut short). */
static int ntfs_streams(Walk *w, TSK_FS_FILE *file, Row *base, Buf *name_buf) {
    int n = tsk_fs_file_attr_getsize(file);
    int printed = 0;
    Buf sname = {0}, spath = {0}, sfull = {0};
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const TSK_FS_ATTR *attr = tsk_fs_file_attr_get_idx(file, i);
        if (!attr) {
            rc = 1;
            break;
        }
        int atype = (int)attr->type;
        if (atype != ATTR_NTFS_DATA && atype != ATTR_NTFS_IDXROOT)
            continue;
        printed = 1;
        Row r = *base;
        char fls_data[4];
        if (atype == ATTR_NTFS_DATA && (file->meta->type == TSK_FS_META_TYPE_DIR ||
                                        file->meta->type == TSK_FS_META_TYPE_VIRT_DIR)) {
            memcpy(fls_data, base->fls, 4); /* fls shows a directory's $DATA stream as a file */
            fls_data[2] = 'r';
            r.fls = fls_data;
        }
        r.attr_type = atype;
        r.attr_id = attr->id;
        r.size = (long long)attr->size;
        const char *aname = attr->name;
        size_t alen = aname ? strlen(aname) : 0;
        if (alen && !(atype == ATTR_NTFS_IDXROOT && strcmp(aname, "$I30") == 0)) {
            if (display(w, aname, alen, &sname) < 0) {
                rc = -1;
                break;
            }
            spath.len = sfull.len = 0;
            if (buf_add(&spath, base->path, base->path_len) < 0 || buf_str(&spath, ":") < 0 ||
                buf_add(&spath, sname.p, sname.len) < 0 ||
                buf_add(&sfull, name_buf->p, name_buf->len) < 0 || buf_str(&sfull, ":") < 0 ||
                buf_add(&sfull, sname.p, sname.len) < 0) {
                rc = -1;
                break;
            }
            r.stream = sname.p;
            r.stream_len = sname.len;
            r.path = spath.p;
            r.path_len = spath.len;
            r.name = sfull.p;
            r.name_len = sfull.len;
            if (atype == ATTR_NTFS_DATA)
                r.type = "file"; /* a named stream holds content, even on a directory */
        }
        if (emit(w, &r) < 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && !printed && emit(w, base) < 0)
        rc = -1;
    PyMem_Free(sname.p);
    PyMem_Free(spath.p);
    PyMem_Free(sfull.p);
    return rc;
}

static void walk_dir(Walk *w, TSK_FS_DIR *dir, int depth, size_t dir_len);

/* Warn "<what>: <TSK's error>" about the current path (w->path), then clear TSK's error. With
 * `report` 0 only the error is cleared (a deleted directory whose blocks are reused is normal). */
static void warn_tsk(Walk *w, const char *what, int report) {
    if (report) {
        char msg[1024];
        const char *e = tsk_error_get();
        snprintf(msg, sizeof msg, "%s: %s", what, e ? e : "unknown error");
        if (warn(w, w->path.p, w->path.len, msg) < 0)
            w->failed = 1;
    }
    tsk_error_reset();
}

/* Walk the directory at meta address `addr`; the current path is in w->path. */
static void walk_addr(Walk *w, TSK_INUM_T addr, int depth, size_t dir_len, int report) {
    TSK_FS_DIR *dir = tsk_fs_dir_open_meta(w->fs, addr);
    if (!dir) {
        warn_tsk(w, "cannot read the directory", report);
        return;
    }
    w->on_path[w->on_path_n++] = addr;
    walk_dir(w, dir, depth, dir_len);
    w->on_path_n--;
    tsk_fs_dir_close(dir);
}

static void walk_dir(Walk *w, TSK_FS_DIR *dir, int depth, size_t dir_len) {
    size_t count = tsk_fs_dir_getsize(dir);
    size_t dir_path_len = w->path.len;
    Buf name = {0};
    for (size_t i = 0; i < count && !w->failed; i++) {
        TSK_FS_FILE *file = tsk_fs_dir_get(dir, i);
        if (!file) {
            w->path.len = dir_path_len;
            warn_tsk(w, "directory listing cut short", 1);
            break;
        }
        TSK_FS_NAME *n = file->name;
        const char *raw = n && n->name ? n->name : "";
        size_t raw_len = strlen(raw);
        if ((raw_len == 1 && raw[0] == '.') || (raw_len == 2 && raw[0] == '.' && raw[1] == '.')) {
            tsk_fs_file_close(file);
            continue;
        }
        TSK_FS_META *meta = file->meta;
        TSK_INUM_T addr = n->meta_addr;
        TSK_FS_FILE *opened = NULL;
        /* TSK survives a failed allocation (a damaged inode asking for gigabytes, refused by the
         * guard's memory cap, triage/sources/walkguard.py) and goes on with what it has, leaving only its
         * error set: say so, since what it shows of that entry may be incomplete */
        int meta_nomem = tsk_error_get_errno() == TSK_ERR_AUX_MALLOC;
        if (!meta && (addr || w->is_ntfs)) { /* deleted NTFS names come without metadata */
            opened = tsk_fs_file_open_meta(w->fs, NULL, addr);
            if (opened)
                meta = opened->meta;
            else
                meta_nomem = meta_nomem || tsk_error_get_errno() == TSK_ERR_AUX_MALLOC;
        }
        tsk_error_reset();
        TSK_FS_FILE *f = opened ? opened : file;
        if (display(w, raw, raw_len, &name) < 0) {
            w->failed = 1;
        } else {
            w->path.len = dir_path_len;
            if (buf_str(&w->path, "/") < 0 || buf_add(&w->path, name.p, name.len) < 0)
                w->failed = 1;
        }
        if (meta_nomem && !w->failed &&
            warn(w, w->path.p, w->path.len,
                 "metadata may be incomplete: The Sleuth Kit ran out of the memory a walk may use "
                 "(a damaged inode asked for more; see EXHIBIT_WALK_MEMORY_MB)") < 0)
            w->failed = 1;
        int deleted = n->flags == TSK_FS_NAME_FLAG_UNALLOC;
        char fls[4];
        fls_type(fls, (unsigned)n->type, meta);
        Row r = {w->path.p, w->path.len, name.p, name.len, NULL, 0, addr, -1, -1, NULL, 0, deleted, 0,
                 NULL, fls, raw, raw_len};
        int cut = 0;
        if (!w->failed && !meta) {
            if (deleted || !w->deleted_only) {
                r.type = name_type((unsigned)n->type);
                if (emit(w, &r) < 0)
                    w->failed = 1;
            }
        } else if (!w->failed) {
            unsigned mtype = (unsigned)meta->type;
            if (deleted || !w->deleted_only) {
                r.type = meta_type(mtype);
                r.size = (long long)meta->size;
                r.realloc = deleted && (meta->flags & TSK_FS_META_FLAG_ALLOC);
                r.meta = meta;
                int rc = w->is_ntfs ? ntfs_streams(w, f, &r, &name) : emit(w, &r);
                if (rc < 0)
                    w->failed = 1;
                else if (rc > 0)
                    cut = 1;
            }
            if (!w->failed && !cut && (mtype == TSK_FS_META_TYPE_DIR || mtype == TSK_FS_META_TYPE_VIRT_DIR) &&
                w->recursive && !on_path(w, addr)) {
                if (depth + 1 >= MAX_DEPTH || dir_len + raw_len >= MAX_PATH_BYTES) {
                    if (warn(w, w->path.p, w->path.len, "directory nested too deep; not descended into") < 0)
                        w->failed = 1;
                } else {
                    TSK_FS_DIR *sub = tsk_fs_dir_open_meta(w->fs, meta->addr);
                    if (!sub) {
                        warn_tsk(w, "cannot read the directory", !deleted);
                    } else {
                        w->on_path[w->on_path_n++] = addr;
                        walk_dir(w, sub, depth + 1, dir_len + raw_len + 1);
                        w->on_path_n--;
                        tsk_fs_dir_close(sub);
                    }
                }
            }
        }
        if (opened)
            tsk_fs_file_close(opened);
        tsk_fs_file_close(file);
        if (cut) {
            w->path.len = dir_path_len;
            warn_tsk(w, "directory listing cut short", 1);
            break;
        }
    }
    w->path.len = dir_path_len;
    PyMem_Free(name.p);
}

PyDoc_STRVAR(walk_doc,
"walk(read_at, size, offset, fs_type, start_inum, prefix, dir_len, *, recursive,\n"
"              deleted_only, as_json, is_ntfs, times_local, owners, display_name, write, warn,\n"
"              known, null_suffix, collect=None, flush_rows=None, progress=None) -> int\n\n"
"Walk the file system at byte `offset` of the image read through `read_at(offset, length)`,\n"
"starting at directory `start_inum` shown as `prefix`, and pass `exhibit ls` lines to `write`\n"
"as UTF-8 bytes, in large blocks; or, given a list as `collect`, append to it one tuple of\n"
"triage.sources.walk.FileEntry's fields per entry. Returns the number of entries; problems go to\n"
"`warn(path, message)`. `flush_rows()` is called whenever `collect` holds 4096 rows (it is\n"
"expected to empty it); `progress`, a writable buffer of at least 8 bytes, gets a native\n"
"unsigned 64-bit counter at its start, bumped at every image read and entry.\n"
"Raises OSError when libtsk cannot open the image or the file system.");

static PyObject *walk(PyObject *self, PyObject *args, PyObject *kw) {
    (void)self;
    static char *kwlist[] = {"read_at", "size", "offset", "fs_type", "start_inum", "prefix", "dir_len",
                             "recursive", "deleted_only", "as_json", "is_ntfs", "times_local", "owners",
                             "display_name", "write", "warn", "known", "null_suffix", "collect",
                             "flush_rows", "progress", NULL};
    PyObject *read_at, *display_name = NULL, *write = Py_None, *warn_cb = NULL, *known = Py_None;
    PyObject *collect_list = Py_None, *flush_rows = Py_None, *progress = Py_None;
    long long size, offset;
    unsigned long long start_inum;
    const char *fs_type, *prefix, *null_suffix = "}\n";
    Py_ssize_t prefix_len, dir_len;
    int recursive = 0, deleted_only = 0, as_json = 0, is_ntfs = 0, times_local = 0, owners = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OLLsKs#n|$ppppppOOOOsOOO:walk", kwlist, &read_at,
                                     &size, &offset, &fs_type, &start_inum, &prefix, &prefix_len,
                                     &dir_len, &recursive, &deleted_only, &as_json, &is_ntfs,
                                     &times_local, &owners, &display_name, &write, &warn_cb, &known,
                                     &null_suffix, &collect_list, &flush_rows, &progress))
        return NULL;
    if (!display_name || !warn_cb || (collect_list == Py_None && write == Py_None) ||
        (collect_list != Py_None && !PyList_Check(collect_list))) {
        PyErr_SetString(PyExc_TypeError, "walk needs display_name, warn, and write or a collect list");
        return NULL;
    }
    Py_buffer tick_view = {0};
    volatile unsigned long long *tick = &no_progress;
    if (progress != Py_None) {
        if (PyObject_GetBuffer(progress, &tick_view, PyBUF_WRITABLE) < 0)
            return NULL;
        if (tick_view.len < (Py_ssize_t)sizeof(unsigned long long) ||
            ((uintptr_t)tick_view.buf % sizeof(unsigned long long)) != 0) {
            PyBuffer_Release(&tick_view);
            PyErr_SetString(PyExc_ValueError, "progress must be an aligned writable buffer of 8 bytes or more");
            return NULL;
        }
        tick = (volatile unsigned long long *)tick_view.buf;
    }
    TSK_IMG_INFO *img = NULL;
    TSK_FS_INFO *fs = ext_open_fs(read_at, size, offset, tick, &img);
    if (!fs) {
        if (tick_view.obj)
            PyBuffer_Release(&tick_view);
        return NULL;
    }
    char partition[32];
    snprintf(partition, sizeof partition, "%lld", offset);
    Walk w = {
        .fs = fs, .offset = offset, .fs_type = fs_type, .partition = partition,
        .is_ntfs = is_ntfs, .times_local = times_local, .owners = owners,
        .recursive = recursive, .deleted_only = deleted_only, .as_json = as_json,
        .display_name = display_name, .write = write, .warn = warn_cb,
        .known = known == Py_None ? NULL : known,
        .collect = collect_list == Py_None ? NULL : collect_list,
        .null_suffix = null_suffix,
        .tick = tick,
        .flush_rows = flush_rows == Py_None || collect_list == Py_None ? NULL : flush_rows,
    };
    w.fs_type_obj = PyUnicode_InternFromString(fs_type);
    if (!w.fs_type_obj) {
        tsk_fs_close(fs);
        tsk_img_close(img);
        if (tick_view.obj)
            PyBuffer_Release(&tick_view);
        return NULL;
    }
    w.times = PyMem_Calloc(TIME_SLOTS, sizeof(TimeSlot));
    if (!w.times) {
        PyErr_NoMemory();
        w.failed = 1;
    } else if (buf_add(&w.path, prefix, (size_t)prefix_len) < 0) {
        w.failed = 1;
    } else {
        walk_addr(&w, (TSK_INUM_T)start_inum, 0, (size_t)dir_len, 1);
    }
    if (!w.failed && flush(&w) < 0)
        w.failed = 1;
    if (!w.failed && w.flush_rows && PyList_GET_SIZE(w.collect) > 0) {
        PyObject *rr = PyObject_CallNoArgs(w.flush_rows);
        if (!rr)
            w.failed = 1;
        Py_XDECREF(rr);
    }
    PyMem_Free(w.out.p);
    PyMem_Free(w.path.p);
    PyMem_Free(w.times);
    Py_XDECREF(w.fs_type_obj);
    tsk_fs_close(fs);
    tsk_img_close(img);
    if (tick_view.obj)
        PyBuffer_Release(&tick_view);
    if (w.failed)
        return NULL;
    return PyLong_FromLongLong(w.count);
}

PyDoc_STRVAR(die_with_parent_doc,
"die_with_parent(parent_pid) -> None\n\n"
"In a forked walk child: have Linux SIGKILL this process when its parent dies (the child holds\n"
"the evidence open and must never outlive the command), then end at once if `parent_pid` is\n"
"already gone. Elsewhere than Linux only the second check is made.");

static PyObject *die_with_parent(PyObject *self, PyObject *arg) {
    (void)self;
    long pid = PyLong_AsLong(arg);
    if (pid == -1 && PyErr_Occurred())
        return NULL;
#ifdef __linux__
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        return PyErr_SetFromErrno(PyExc_OSError);
#endif
    if ((long)getppid() != pid)
        _exit(1);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"walk", (PyCFunction)(void (*)(void))walk, METH_VARARGS | METH_KEYWORDS, walk_doc},
    {"die_with_parent", die_with_parent, METH_O, die_with_parent_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "triage.sources._fastwalk",
    "The `exhibit ls` walk in C over libtsk (see triage/views/listing.py).", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastwalk(void) {
    tzset(); /* local-time file systems: the same zone Python's time.localtime uses */
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddStringConstant(m, "TSK_VERSION", tsk_version_get_str()) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
