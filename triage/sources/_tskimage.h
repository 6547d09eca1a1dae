/* The TSK external image both extensions read through: libtsk asks for bytes, a Python callable
 * (custody.media.ImageReader.read_at, or any read_at(offset, length) -> bytes) answers. Included by
 * _fastwalk.c and _blockmap.c (each extension gets its own static copy).
 *
 * `tick` points to a counter bumped at every read (the guarded walk's progress, see
 * triage/sources/walkguard.py); a reader nobody watches points it at a local. */
#ifndef EXHIBIT_TSKIMAGE_H
#define EXHIBIT_TSKIMAGE_H

#include <Python.h>
#include <string.h>
#include <tsk/libtsk.h>

typedef struct {
    TSK_IMG_INFO img; /* must come first: TSK casts */
    PyObject *read_at;
    volatile unsigned long long *tick;
} ExtImg;

static ssize_t ext_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len) {
    ExtImg *e = (ExtImg *)img;
    (*e->tick)++;
    if (off >= img->size || len == 0)
        return 0; /* past the end: a short read, as from a file (triage.sources.image.ReaderImg) */
    if ((TSK_OFF_T)len > img->size - off)
        len = (size_t)(img->size - off);
    PyObject *r = PyObject_CallFunction(e->read_at, "Ln", (long long)off, (Py_ssize_t)len);
    char *data = NULL;
    Py_ssize_t n = 0;
    if (r == NULL || PyBytes_AsStringAndSize(r, &data, &n) < 0) {
        /* any reader failure reaches TSK as an I/O error on this structure only */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyObject *text = value ? PyObject_Str(value) : NULL;
        const char *msg = text ? PyUnicode_AsUTF8(text) : NULL;
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("read of %zu bytes at offset %lld failed: %s", len, (long long)off,
                             msg ? msg : "unknown error");
        Py_XDECREF(text);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        PyErr_Clear();
        Py_XDECREF(r);
        return -1;
    }
    if ((size_t)n > len)
        n = (Py_ssize_t)len;
    memcpy(buf, data, (size_t)n);
    Py_DECREF(r);
    return n;
}

static void ext_close(TSK_IMG_INFO *img) {
    ExtImg *e = (ExtImg *)img;
    Py_CLEAR(e->read_at);
    PyMem_RawFree(e);
}

static void ext_imgstat(TSK_IMG_INFO *img, FILE *f) {
    (void)img;
    (void)f;
}

/* Open the file system at `offset` of the image of `size` bytes read by `read_at`, counting reads
 * in `*tick`. NULL with an OSError set; else the file system, and the image in `*img_out` (close
 * the file system, then the image). */
static TSK_FS_INFO *ext_open_fs(PyObject *read_at, long long size, long long offset,
                                volatile unsigned long long *tick, TSK_IMG_INFO **img_out) {
    ExtImg *e = PyMem_RawCalloc(1, sizeof(ExtImg));
    if (!e) {
        PyErr_NoMemory();
        return NULL;
    }
    e->tick = tick;
    e->img.tag = TSK_IMG_INFO_TAG;
    e->read_at = Py_NewRef(read_at);
    TSK_IMG_INFO *img = tsk_img_open_external(e, (TSK_OFF_T)size, 512, ext_read, ext_close, ext_imgstat);
    if (!img) {
        PyErr_Format(PyExc_OSError, "libtsk cannot use the image: %s", tsk_error_get());
        ext_close(&e->img);
        return NULL;
    }
    TSK_FS_INFO *fs = tsk_fs_open_img(img, (TSK_OFF_T)offset, TSK_FS_TYPE_DETECT);
    if (!fs) {
        PyErr_Format(PyExc_OSError, "libtsk finds no file system at byte %lld: %s", offset, tsk_error_get());
        tsk_error_reset();
        tsk_img_close(img);
        return NULL;
    }
    *img_out = img;
    return fs;
}

#endif
