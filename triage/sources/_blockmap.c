/*
 * triage.sources._blockmap: which blocks of a file system are unallocated, from libtsk's block walk.
 *
 * Why it exists: carving (triage/sources/carve.py) reads only the unallocated blocks of each file
 * system, as TSK's `blkls` lists them. pytsk3 has no binding for tsk_fs_block_walk, so this small
 * module calls it directly. The image is read through the same custody.media reader as everything
 * else (TSK's "external image" calls back into `reader.read_at`), read-only, by one code path.
 *
 * unallocated(read_at, size, offset, first, last) walks blocks first..last (inclusive) with
 * TSK_FS_BLOCK_WALK_FLAG_UNALLOC | TSK_FS_BLOCK_WALK_FLAG_AONLY (addresses only: no block content
 * is read by the walk) and returns the runs of consecutive unallocated blocks as packed
 * little-endian uint64 pairs (first block, count). The caller asks for a window of blocks at a time,
 * so memory stays bounded however fragmented the free space is.
 * geometry(read_at, size, offset) returns (block_size, first_block, last_block, fs type name).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include <tsk/libtsk.h>

#include "_tskimage.h"

static volatile unsigned long long reads; /* nobody watches the block walk's reads */

/* Open the file system at `offset` of the image read by `read_at`; NULL with an OSError set. */
static TSK_FS_INFO *open_fs(PyObject *read_at, long long size, long long offset, TSK_IMG_INFO **img_out) {
    return ext_open_fs(read_at, size, offset, &reads, img_out);
}

typedef struct {
    uint64_t *runs; /* pairs */
    size_t used;    /* pairs used */
    size_t cap;     /* pairs allocated */
    uint64_t start, count;
    int failed;
} Runs;

static int push(Runs *r) {
    if (r->count == 0)
        return 0;
    if (r->used == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        uint64_t *p = PyMem_RawRealloc(r->runs, cap * 2 * sizeof(uint64_t));
        if (!p)
            return -1;
        r->runs = p;
        r->cap = cap;
    }
    r->runs[2 * r->used] = r->start;
    r->runs[2 * r->used + 1] = r->count;
    r->used++;
    r->count = 0;
    return 0;
}

static TSK_WALK_RET_ENUM on_block(const TSK_FS_BLOCK *block, void *ptr) {
    Runs *r = ptr;
    uint64_t addr = (uint64_t)block->addr;
    if (r->count && addr == r->start + r->count) {
        r->count++;
        return TSK_WALK_CONT;
    }
    if (push(r) < 0) {
        r->failed = 1;
        return TSK_WALK_ERROR;
    }
    r->start = addr;
    r->count = 1;
    return TSK_WALK_CONT;
}

PyDoc_STRVAR(geometry_doc,
"geometry(read_at, size, offset) -> (block_size, first_block, last_block, fs_type)\n\n"
"The block geometry libtsk sees for the file system at byte `offset`; OSError when none opens.");

static PyObject *geometry(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *read_at;
    long long size, offset;
    if (!PyArg_ParseTuple(args, "OLL:geometry", &read_at, &size, &offset))
        return NULL;
    TSK_IMG_INFO *img = NULL;
    TSK_FS_INFO *fs = open_fs(read_at, size, offset, &img);
    if (!fs)
        return NULL;
    PyObject *out = Py_BuildValue("(kKKs)", (unsigned long)fs->block_size, (unsigned long long)fs->first_block,
                                  (unsigned long long)fs->last_block, tsk_fs_type_toname(fs->ftype));
    tsk_fs_close(fs);
    tsk_img_close(img);
    return out;
}

PyDoc_STRVAR(unallocated_doc,
"unallocated(read_at, size, offset, first, last) -> bytes\n\n"
"Runs of unallocated blocks among blocks first..last of the file system at byte `offset`, as packed\n"
"little-endian uint64 pairs (first block, count). OSError when the file system cannot be opened or\n"
"its allocation maps cannot be read.");

static PyObject *unallocated(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *read_at;
    long long size, offset;
    unsigned long long first, last;
    if (!PyArg_ParseTuple(args, "OLLKK:unallocated", &read_at, &size, &offset, &first, &last))
        return NULL;
    TSK_IMG_INFO *img = NULL;
    TSK_FS_INFO *fs = open_fs(read_at, size, offset, &img);
    if (!fs)
        return NULL;
    if (first < fs->first_block)
        first = fs->first_block;
    if (last > fs->last_block)
        last = fs->last_block;
    Runs r = {0};
    int bad = 0;
    if (first <= last) {
        int flags = TSK_FS_BLOCK_WALK_FLAG_UNALLOC | TSK_FS_BLOCK_WALK_FLAG_AONLY;
        bad = tsk_fs_block_walk(fs, (TSK_DADDR_T)first, (TSK_DADDR_T)last, flags, on_block, &r);
        if (!bad && !r.failed && push(&r) < 0)
            r.failed = 1;
    }
    PyObject *out = NULL;
    if (r.failed)
        PyErr_NoMemory();
    else if (bad)
        PyErr_Format(PyExc_OSError, "libtsk cannot walk the blocks of the file system at byte %lld: %s",
                     offset, tsk_error_get());
    else {
        for (size_t i = 0; i < 2 * r.used; i++) { /* little-endian on every host */
            uint64_t v = r.runs[i];
            unsigned char b[8];
            for (int k = 0; k < 8; k++)
                b[k] = (unsigned char)(v >> (8 * k));
            memcpy(&r.runs[i], b, 8);
        }
        out = PyBytes_FromStringAndSize((const char *)r.runs, (Py_ssize_t)(r.used * 2 * sizeof(uint64_t)));
    }
    tsk_error_reset();
    PyMem_RawFree(r.runs);
    tsk_fs_close(fs);
    tsk_img_close(img);
    return out;
}

static PyMethodDef methods[] = {
    {"geometry", geometry, METH_VARARGS, geometry_doc},
    {"unallocated", unallocated, METH_VARARGS, unallocated_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "triage.sources._blockmap",
    "Unallocated blocks of a file system, from libtsk's block walk (see triage/sources/carve.py).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__blockmap(void) { return PyModule_Create(&module); }
