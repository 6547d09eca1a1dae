/*
 * triage.sources._magicscan: the byte look-ups of triage.sources.magicdb's screening, in C.
 *
 * Why it exists: before libmagic is asked about a head, Split.matching (magicdb.py) finds the
 * plain rules whose first test holds there, by looking at the head's byte at about 120 fixed
 * positions and searching for about a dozen literals in ranges of it. In Python that took
 * 13-25 us a head (the per-position loop and each search's call), about a third of sniffing a
 * random binary file. scan() does only the look-ups (what a hit means stays in Python: the
 * Python loop and the tests use it); rules() also makes each hit's checks and returns the
 * rules themselves, as the sniffer keys its handles (7-8 us a head in Python, 2 us here).
 *
 * Scanner(positions, flags, searches):
 *   positions  sorted byte offsets (ints);
 *   flags      bytes of len(positions) * 256: flags[i * 256 + b] is non-zero when some check
 *              wants byte value b at positions[i];
 *   searches   (offset, span, literal) triples: the literal is looked for starting anywhere in
 *              [offset, offset + span) (span 0: anywhere from the offset to the end), within the
 *              head, as bytes.find(literal, offset, offset + span - 1 + len(literal)) does.
 * Scanner.scan(head) -> list of ints: i * 256 + b for every position i < len(head) whose byte b
 *   is flagged (in position order), then ~k for every search k whose literal occurs (in order).
 * Scanner(positions, flags, searches, checks, search_rules).rules(head) -> tuple of ints: the
 *   rules of the checks that hold at the flagged slots the head reaches, and of the searches
 *   found, sorted, each once (magicdb's Split.matched). `checks`: for each flagged slot in slot
 *   order, its checks: (rule, offset, literal) for "the literal at offset", or (rule, offset,
 *   width, big, mask, want) for "the unsigned integer of width (1-8) bytes at offset, in that
 *   byte order, & mask == want"; `search_rules`: each search's rule.
 *
 * Pairs (below): the text tier's check that no literal of a rule outside it occurs in a text head.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One check of a flagged slot (magicdb's Check): the literal at `offset`, or the unsigned integer
 * of `width` bytes (1..8) at `offset`, in `big` or little-endian order, & mask == want. */
struct check {
    long rule;
    Py_ssize_t offset;
    PyObject *literal; /* owned bytes, or NULL for an integer check */
    int width, big;
    unsigned long long mask, want;
};

typedef struct {
    PyObject_HEAD
    Py_ssize_t npos;
    Py_ssize_t *positions;
    unsigned char *flags;
    Py_ssize_t nsearch;
    Py_ssize_t *offsets;
    Py_ssize_t *spans;
    PyObject **literals; /* owned bytes objects */
    /* the checks behind each flagged slot, for rules() (NULL when not given) */
    int32_t *slot_first; /* npos * 256 + 1: slot s's checks are checks[slot_first[s] .. slot_first[s + 1]) */
    struct check *checks;
    Py_ssize_t nchecks;
    long *search_rules; /* nsearch */
} Scanner;

static void Scanner_dealloc(Scanner *self) {
    if (self->literals) {
        for (Py_ssize_t k = 0; k < self->nsearch; k++)
            Py_XDECREF(self->literals[k]);
    }
    PyMem_Free(self->positions);
    PyMem_Free(self->flags);
    PyMem_Free(self->offsets);
    PyMem_Free(self->spans);
    PyMem_Free(self->literals);
    if (self->checks) {
        for (Py_ssize_t k = 0; k < self->nchecks; k++)
            Py_XDECREF(self->checks[k].literal);
    }
    PyMem_Free(self->checks);
    PyMem_Free(self->slot_first);
    PyMem_Free(self->search_rules);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The checks of every flagged slot, in slot order (`checks`: one sequence of check tuples per
 * flagged slot, (rule, offset, literal) or (rule, offset, width, big, mask, want)), and each
 * search's rule. */
static int init_checks(Scanner *self, PyObject *checks, PyObject *search_rules) {
    int rc = -1;
    /* tuples throughout: a snapshot no conversion below (an __index__, a __bool__) can change */
    PyObject *slots = PySequence_Tuple(checks);
    PyObject *srules = PySequence_Tuple(search_rules);
    PyObject *snaps = NULL;
    if (!slots || !srules)
        goto out;
    if (PyTuple_GET_SIZE(srules) != self->nsearch) {
        PyErr_SetString(PyExc_ValueError, "one rule per search");
        goto out;
    }
    self->search_rules = PyMem_Calloc(self->nsearch ? self->nsearch : 1, sizeof(long));
    Py_ssize_t nslots = self->npos * 256;
    self->slot_first = PyMem_Calloc(nslots + 1, sizeof(int32_t));
    if (!self->search_rules || !self->slot_first) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t k = 0; k < self->nsearch; k++) {
        self->search_rules[k] = PyLong_AsLong(PyTuple_GET_ITEM(srules, k));
        if (self->search_rules[k] == -1 && PyErr_Occurred())
            goto out;
    }
    Py_ssize_t flagged = 0, total = 0;
    for (Py_ssize_t slot = 0; slot < nslots; slot++)
        flagged += self->flags[slot] != 0;
    if (PyTuple_GET_SIZE(slots) != flagged) {
        PyErr_SetString(PyExc_ValueError, "one sequence of checks per flagged slot");
        goto out;
    }
    snaps = PyTuple_New(flagged);
    if (!snaps)
        goto out;
    for (Py_ssize_t j = 0; j < flagged; j++) {
        PyObject *snap = PySequence_Tuple(PyTuple_GET_ITEM(slots, j));
        if (!snap)
            goto out;
        PyTuple_SET_ITEM(snaps, j, snap);
        total += PyTuple_GET_SIZE(snap);
    }
    if (total > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "too many checks");
        goto out;
    }
    self->checks = PyMem_Calloc(total ? total : 1, sizeof(struct check));
    if (!self->checks) {
        PyErr_NoMemory();
        goto out;
    }
    Py_ssize_t j = 0, at = 0;
    for (Py_ssize_t slot = 0; slot < nslots; slot++) {
        self->slot_first[slot] = (int32_t)at;
        if (!self->flags[slot])
            continue;
        PyObject *list = PyTuple_GET_ITEM(snaps, j++);
        for (Py_ssize_t c = 0; c < PyTuple_GET_SIZE(list); c++) {
            PyObject *t = PyTuple_GET_ITEM(list, c);
            struct check *k = &self->checks[at];
            PyObject *literal = NULL, *mask = NULL, *want = NULL;
            int ok;
            if (!PyTuple_Check(t)) {
                PyErr_SetString(PyExc_TypeError, "a check is a tuple");
                goto out;
            }
            if (PyTuple_GET_SIZE(t) == 3) {
                ok = PyArg_ParseTuple(t, "lnS", &k->rule, &k->offset, &literal);
                if (ok && PyBytes_GET_SIZE(literal) == 0) {
                    PyErr_SetString(PyExc_ValueError, "an empty literal");
                    ok = 0;
                }
            } else {
                ok = PyArg_ParseTuple(t, "lnipO!O!", &k->rule, &k->offset, &k->width, &k->big, &PyLong_Type, &mask,
                                      &PyLong_Type, &want);
                if (ok && (k->width < 1 || k->width > 8)) {
                    PyErr_SetString(PyExc_ValueError, "an integer check reads 1 to 8 bytes");
                    ok = 0;
                }
                if (ok) { /* OverflowError for a negative value or one over 64 bits */
                    k->mask = PyLong_AsUnsignedLongLong(mask);
                    ok = !(k->mask == (unsigned long long)-1 && PyErr_Occurred());
                }
                if (ok) {
                    k->want = PyLong_AsUnsignedLongLong(want);
                    ok = !(k->want == (unsigned long long)-1 && PyErr_Occurred());
                }
            }
            if (ok && (k->offset < 0 || k->offset > PY_SSIZE_T_MAX / 4)) {
                PyErr_SetString(PyExc_ValueError, "a check's offset is out of range");
                ok = 0;
            }
            if (!ok)
                goto out;
            Py_XINCREF(literal);
            k->literal = literal;
            self->nchecks = ++at;
        }
    }
    self->slot_first[nslots] = (int32_t)at;
    rc = 0;
out:
    Py_XDECREF(slots);
    Py_XDECREF(srules);
    Py_XDECREF(snaps);
    return rc;
}

static int Scanner_init(Scanner *self, PyObject *args, PyObject *kwds) {
    PyObject *positions, *searches, *checks = Py_None, *search_rules = Py_None;
    Py_buffer flags;
    static char *kwlist[] = {"positions", "flags", "searches", "checks", "search_rules", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Oy*O|OO", kwlist, &positions, &flags, &searches, &checks,
                                     &search_rules))
        return -1;
    int rc = -1;
    PyObject *pos_seq = NULL, *search_seq = NULL;
    if (self->positions) { /* __init__ called twice: start again */
        PyErr_SetString(PyExc_TypeError, "Scanner is already initialised");
        goto done;
    }
    pos_seq = PySequence_Tuple(positions); /* snapshots: a conversion below cannot change them */
    search_seq = PySequence_Tuple(searches);
    if (!pos_seq || !search_seq)
        goto done;
    Py_ssize_t npos = PySequence_Fast_GET_SIZE(pos_seq);
    if (flags.len != npos * 256) {
        PyErr_SetString(PyExc_ValueError, "flags must hold 256 bytes per position");
        goto done;
    }
    self->positions = PyMem_Calloc(npos ? npos : 1, sizeof(Py_ssize_t));
    self->flags = PyMem_Malloc(flags.len ? flags.len : 1);
    if (!self->positions || !self->flags) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t last = -1;
    for (Py_ssize_t i = 0; i < npos; i++) {
        Py_ssize_t p = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(pos_seq, i));
        if (p == -1 && PyErr_Occurred())
            goto done;
        if (p < 0 || p <= last) {
            PyErr_SetString(PyExc_ValueError, "positions must be increasing and not negative");
            goto done;
        }
        self->positions[i] = last = p;
    }
    memcpy(self->flags, flags.buf, flags.len);
    self->npos = npos;
    Py_ssize_t nsearch = PySequence_Fast_GET_SIZE(search_seq);
    self->offsets = PyMem_Calloc(nsearch ? nsearch : 1, sizeof(Py_ssize_t));
    self->spans = PyMem_Calloc(nsearch ? nsearch : 1, sizeof(Py_ssize_t));
    self->literals = PyMem_Calloc(nsearch ? nsearch : 1, sizeof(PyObject *));
    if (!self->offsets || !self->spans || !self->literals) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < nsearch; k++) {
        Py_ssize_t offset, span;
        PyObject *literal;
        PyObject *item = PySequence_Fast_GET_ITEM(search_seq, k);
        if (!PyTuple_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "a search is an (offset, span, literal) tuple");
            goto done;
        }
        if (!PyArg_ParseTuple(item, "nnS", &offset, &span, &literal))
            goto done;
        /* bounded so that offset + span - 1 + len(literal) cannot overflow in scan() */
        if (offset < 0 || span < 0 || offset > PY_SSIZE_T_MAX / 4 || span > PY_SSIZE_T_MAX / 4 ||
            !PyBytes_Check(literal) || PyBytes_GET_SIZE(literal) == 0) {
            PyErr_SetString(PyExc_ValueError,
                            "a search needs 0 <= offset, span <= PY_SSIZE_T_MAX / 4 and a non-empty bytes literal");
            goto done;
        }
        self->offsets[k] = offset;
        self->spans[k] = span;
        Py_INCREF(literal);
        self->literals[k] = literal;
        self->nsearch = k + 1;
    }
    if ((checks == Py_None) != (search_rules == Py_None)) {
        PyErr_SetString(PyExc_TypeError, "checks and search_rules go together");
        goto done;
    }
    if (checks != Py_None && init_checks(self, checks, search_rules) < 0)
        goto done;
    rc = 0;
done:
    PyBuffer_Release(&flags);
    Py_XDECREF(pos_seq);
    Py_XDECREF(search_seq);
    return rc;
}

static int append_int(PyObject *list, long value) {
    PyObject *v = PyLong_FromLong(value);
    if (!v)
        return -1;
    int rc = PyList_Append(list, v);
    Py_DECREF(v);
    return rc;
}

/* Whether `lit` (len >= 1) occurs in `hay`. memchr for its first byte, then a compare: in random
 * data and in most text the first byte is rare, and memchr is faster than glibc's memmem for the
 * short literals screened here ("<!" over 4 KB: 2.3 us with memmem). After 64 false starts the
 * rest goes to memmem, so a head full of that byte costs no more than memmem would. */
static int occurs(const unsigned char *hay, size_t n, const unsigned char *lit, size_t len) {
    const unsigned char *p = hay, *end = hay + n;
    for (int tries = 0; tries < 64; tries++) {
        if ((size_t)(end - p) < len)
            return 0;
        p = memchr(p, lit[0], (size_t)(end - p) - len + 1);
        if (!p)
            return 0;
        if (memcmp(p + 1, lit + 1, len - 1) == 0)
            return 1;
        p++;
    }
    return (size_t)(end - p) >= len && memmem(p, (size_t)(end - p), lit, len) != NULL;
}

/* Whether search k's literal starts within its range of `h` (as bytes.find(literal, offset,
 * offset + span - 1 + len(literal)) finds it; span 0: to the end). */
static int search_found(const Scanner *self, Py_ssize_t k, const unsigned char *h, Py_ssize_t n) {
    Py_ssize_t offset = self->offsets[k];
    if (offset >= n)
        return 0;
    Py_ssize_t len = PyBytes_GET_SIZE(self->literals[k]);
    Py_ssize_t end = self->spans[k] ? offset + self->spans[k] - 1 + len : n;
    if (end > n)
        end = n;
    return end - offset >= len &&
           occurs(h + offset, (size_t)(end - offset), (const unsigned char *)PyBytes_AS_STRING(self->literals[k]),
                  (size_t)len);
}

static PyObject *Scanner_scan(Scanner *self, PyObject *arg) {
    Py_buffer head;
    if (PyObject_GetBuffer(arg, &head, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *h = head.buf;
    Py_ssize_t n = head.len;
    PyObject *out = PyList_New(0);
    if (!out)
        goto fail;
    for (Py_ssize_t i = 0; i < self->npos; i++) {
        Py_ssize_t p = self->positions[i];
        if (p >= n)
            break; /* sorted: no later position is inside the head */
        unsigned char b = h[p];
        if (self->flags[i * 256 + b] && append_int(out, (long)(i * 256 + b)) < 0)
            goto fail;
    }
    for (Py_ssize_t k = 0; k < self->nsearch; k++) {
        if (search_found(self, k, h, n) && append_int(out, (long)~k) < 0)
            goto fail;
    }
    PyBuffer_Release(&head);
    return out;
fail:
    Py_XDECREF(out);
    PyBuffer_Release(&head);
    return NULL;
}

static int holds(const struct check *k, const unsigned char *h, Py_ssize_t n) {
    if (k->literal) {
        Py_ssize_t len = PyBytes_GET_SIZE(k->literal);
        return k->offset <= n - len && memcmp(h + k->offset, PyBytes_AS_STRING(k->literal), (size_t)len) == 0;
    }
    if (k->offset > n - k->width)
        return 0;
    unsigned long long v = 0;
    for (int i = 0; i < k->width; i++) {
        unsigned char b = h[k->offset + (k->big ? i : k->width - 1 - i)];
        v = (v << 8) | b;
    }
    return (v & k->mask) == k->want;
}

/* Append `rule` to `*found` (`*used` of `*cap`, first in the caller's stack buffer `small`),
 * doubling it on the heap when full; -1 with MemoryError set. */
static int push_rule(long **found, Py_ssize_t *used, Py_ssize_t *cap, long *small, long rule) {
    if (*used == *cap) {
        long *more = PyMem_Malloc(2 * (size_t)*cap * sizeof(long));
        if (!more) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(more, *found, (size_t)*used * sizeof(long));
        if (*found != small)
            PyMem_Free(*found);
        *found = more;
        *cap *= 2;
    }
    (*found)[(*used)++] = rule;
    return 0;
}

static int compare_longs(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* rules(head): the rules whose first test holds, sorted, each once (magicdb's Split.matched). */
static PyObject *Scanner_rules(Scanner *self, PyObject *arg) {
    if (!self->slot_first) {
        PyErr_SetString(PyExc_TypeError, "this Scanner was made without its checks");
        return NULL;
    }
    Py_buffer head;
    if (PyObject_GetBuffer(arg, &head, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *h = head.buf;
    Py_ssize_t n = head.len, used = 0, cap = 64;
    long small[64], *found = small;
    PyObject *out = NULL;
    for (Py_ssize_t i = 0; i < self->npos; i++) {
        Py_ssize_t p = self->positions[i];
        if (p >= n)
            break;
        Py_ssize_t slot = i * 256 + h[p];
        if (!self->flags[slot])
            continue;
        for (int32_t c = self->slot_first[slot]; c < self->slot_first[slot + 1]; c++) {
            if (holds(&self->checks[c], h, n) && push_rule(&found, &used, &cap, small, self->checks[c].rule) < 0)
                goto done;
        }
    }
    for (Py_ssize_t k = 0; k < self->nsearch; k++) {
        if (search_found(self, k, h, n) && push_rule(&found, &used, &cap, small, self->search_rules[k]) < 0)
            goto done;
    }
    qsort(found, (size_t)used, sizeof(long), compare_longs);
    Py_ssize_t distinct = 0;
    for (Py_ssize_t i = 0; i < used; i++)
        if (i == 0 || found[i] != found[i - 1])
            found[distinct++] = found[i];
    out = PyTuple_New(distinct);
    if (!out)
        goto done;
    for (Py_ssize_t i = 0; i < distinct; i++) {
        PyObject *v = PyLong_FromLong(found[i]);
        if (!v) {
            Py_CLEAR(out);
            goto done;
        }
        PyTuple_SET_ITEM(out, i, v);
    }
done:
    if (found != small)
        PyMem_Free(found);
    PyBuffer_Release(&head);
    return out;
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)Scanner_scan, METH_O,
     "scan(head) -> list of ints: i * 256 + byte for each flagged position, then ~k for each search found"},
    {"rules", (PyCFunction)Scanner_rules, METH_O,
     "rules(head) -> tuple of the rules whose checks hold at the flagged positions or whose search is found, "
     "sorted, each once (needs checks and search_rules)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "triage.sources._magicscan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The byte look-ups of magicdb's screening: Scanner(positions, flags, searches).scan(head)",
    .tp_methods = Scanner_methods,
    .tp_init = (initproc)Scanner_init,
    .tp_new = PyType_GenericNew,
};

/*
 * Pairs(exact, nocase): Pairs.occurs(text) -> whether a literal of `exact` occurs in `text`, or
 * one of `nocase` (given lower-cased) in `text` with its ASCII letters lower-cased. The text
 * tier's outsider check (magicdb._Pairs, where the numpy version it replaces is described): a
 * literal is searched for only when every pair of adjacent bytes of it, lower-cased, occurs in
 * the lower-cased text (a 65,536-bit table of the text's pairs).
 */
typedef struct {
    PyObject_HEAD
    Py_ssize_t count;
    PyObject **literals; /* owned bytes: exact ones first, then the case-free ones */
    unsigned char *nocase;
    unsigned char *table; /* 8 KB: the pairs of the text being looked at (cleared after) */
} Pairs;

static void Pairs_dealloc(Pairs *self) {
    if (self->literals) {
        for (Py_ssize_t k = 0; k < self->count; k++)
            Py_XDECREF(self->literals[k]);
    }
    PyMem_Free(self->literals);
    PyMem_Free(self->nocase);
    PyMem_Free(self->table);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Pairs_init(Pairs *self, PyObject *args, PyObject *kwds) {
    PyObject *exact, *nocase;
    static char *kwlist[] = {"exact", "nocase", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO", kwlist, &exact, &nocase))
        return -1;
    if (self->table) {
        PyErr_SetString(PyExc_TypeError, "Pairs is already initialised");
        return -1;
    }
    PyObject *lists[2] = {PySequence_Fast(exact, "exact must be a sequence of bytes"), NULL};
    if (!lists[0])
        return -1;
    lists[1] = PySequence_Fast(nocase, "nocase must be a sequence of bytes");
    int rc = -1;
    if (!lists[1])
        goto done;
    Py_ssize_t total = PySequence_Fast_GET_SIZE(lists[0]) + PySequence_Fast_GET_SIZE(lists[1]);
    self->literals = PyMem_Calloc(total ? total : 1, sizeof(PyObject *));
    self->nocase = PyMem_Calloc(total ? total : 1, 1);
    self->table = PyMem_Calloc(65536 / 8, 1);
    if (!self->literals || !self->nocase || !self->table) {
        PyErr_NoMemory();
        goto done;
    }
    for (int which = 0; which < 2; which++) {
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(lists[which]); i++) {
            PyObject *lit = PySequence_Fast_GET_ITEM(lists[which], i);
            if (!PyBytes_Check(lit)) {
                PyErr_SetString(PyExc_TypeError, "literals must be bytes");
                goto done;
            }
            if (PyBytes_GET_SIZE(lit) == 0) {
                PyErr_SetString(PyExc_ValueError, "literals must not be empty");
                goto done;
            }
            Py_INCREF(lit);
            self->literals[self->count] = lit;
            self->nocase[self->count] = (unsigned char)which;
            self->count++;
        }
    }
    rc = 0;
done:
    Py_XDECREF(lists[0]);
    Py_XDECREF(lists[1]);
    return rc;
}

static inline unsigned char ascii_lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c; }

static PyObject *Pairs_occurs(Pairs *self, PyObject *arg) {
    Py_buffer text;
    if (PyObject_GetBuffer(arg, &text, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *t = text.buf;
    Py_ssize_t n = text.len;
    unsigned char small[8192];
    unsigned char *low = n <= (Py_ssize_t)sizeof(small) ? small : PyMem_Malloc(n ? n : 1);
    if (!low) {
        PyBuffer_Release(&text);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++)
        low[i] = ascii_lower(t[i]);
    unsigned char *table = self->table;
    for (Py_ssize_t i = 0; i + 1 < n; i++) {
        unsigned int pair = (unsigned int)low[i] << 8 | low[i + 1];
        table[pair >> 3] |= (unsigned char)(1u << (pair & 7));
    }
    int found = 0;
    for (Py_ssize_t k = 0; k < self->count && !found; k++) {
        const unsigned char *lit = (const unsigned char *)PyBytes_AS_STRING(self->literals[k]);
        Py_ssize_t len = PyBytes_GET_SIZE(self->literals[k]);
        const unsigned char *hay = self->nocase[k] ? low : t;
        if (len > n)
            continue;
        if (len == 1) {
            found = memchr(hay, lit[0], (size_t)n) != NULL;
            continue;
        }
        int maybe = 1;
        for (Py_ssize_t j = 0; j + 1 < len; j++) {
            unsigned int pair = (unsigned int)ascii_lower(lit[j]) << 8 | ascii_lower(lit[j + 1]);
            if (!(table[pair >> 3] & (1u << (pair & 7)))) {
                maybe = 0;
                break;
            }
        }
        if (maybe)
            found = memmem(hay, (size_t)n, lit, (size_t)len) != NULL;
    }
    for (Py_ssize_t i = 0; i + 1 < n; i++) { /* clear only what was set: the table stays zero */
        unsigned int pair = (unsigned int)low[i] << 8 | low[i + 1];
        table[pair >> 3] = 0;
    }
    if (low != small)
        PyMem_Free(low);
    PyBuffer_Release(&text);
    return PyBool_FromLong(found);
}

static PyMethodDef Pairs_methods[] = {
    {"occurs", (PyCFunction)Pairs_occurs, METH_O, "occurs(text) -> whether one of the literals occurs in text"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PairsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "triage.sources._magicscan.Pairs",
    .tp_basicsize = sizeof(Pairs),
    .tp_dealloc = (destructor)Pairs_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The text tier's outsider check: Pairs(exact, nocase).occurs(text)",
    .tp_methods = Pairs_methods,
    .tp_init = (initproc)Pairs_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_magicscan", "The byte look-ups of triage.sources.magicdb's screening.", -1, NULL,
};

PyMODINIT_FUNC PyInit__magicscan(void) {
    if (PyType_Ready(&ScannerType) < 0 || PyType_Ready(&PairsType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&PairsType);
    if (PyModule_AddObject(m, "Pairs", (PyObject *)&PairsType) < 0) {
        Py_DECREF(&PairsType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
