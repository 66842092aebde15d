/* datastores._cbookside, the native twin of datastores/_bookside.py: one side
 * of one order book. entries.c keeps the sorted entries, side.c is the Side
 * type and the module, apply.c the apply_levels loop.
 *
 * A side keeps (rank, level) entries sorted by rank, where rank = -key
 * (key: price for asks, -price for bids), so the best level is the LAST entry:
 * most changes happen near the top of the book and then move only the few
 * entries after them. The entries live in chunks of at most `cap` entries (a
 * two-level sorted array, like sortedcontainers' SortedList): a change costs a
 * bisection over the chunks' last ranks, one inside the chunk and a move of at
 * most `cap` entries, wherever it is in the book. A plain [price, size] pair
 * of ASCII strings is stored as a compact Level (level.h); any other level
 * object (more fields, numbers, non-ASCII text) is the exchange's own
 * sequence, stored as received (one reference each); no key object and no
 * dict entry is kept per level.
 *
 * Checks: apply_levels() runs the same branches as the Python loop and calls
 * the Python check_level() / malformed() (handed over by _setup()) on every
 * slow path, so refusals and their messages are the Python ones.
 *
 * Re-entrancy: converting a value (float(), __index__) or dropping a reference
 * can run arbitrary Python code, which may touch this side again. So a value
 * is converted before the structure is touched, a replaced or removed level is
 * released only after the structure is consistent again, and no pointer into
 * the chunks is kept across such a call.
 */
#ifndef DATASTORES_BOOKSIDE_H
#define DATASTORES_BOOKSIDE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "level.h"

typedef struct {
    double rank;
    PyObject *level; /* strong reference */
} Entry;

typedef struct {
    Py_ssize_t len;
    Py_ssize_t alloc;
    Entry *e;
} Chunk;

typedef struct {
    PyObject_HEAD
    Chunk *chunks;
    double *maxes; /* maxes[i] == chunks[i].e[len - 1].rank */
    Py_ssize_t nchunks;
    Py_ssize_t chunks_alloc;
    Py_ssize_t count;
    Py_ssize_t cap; /* entries per chunk at most */
} SideObject;

#define DEFAULT_CAP 256
#define MIN_ALLOC 4

extern PyTypeObject Side_Type;

/* entries.c: the sorted entries (pure C: no Python code runs in them) */
int bs_locate(SideObject *s, double rank, Py_ssize_t *ci, Py_ssize_t *pos);
int bs_insert_at(SideObject *s, Py_ssize_t ci, Py_ssize_t pos, double rank, PyObject *level);
PyObject *bs_remove_at(SideObject *s, Py_ssize_t ci, Py_ssize_t pos);
void bs_empty(SideObject *s);
Entry *bs_snapshot(SideObject *s, Py_ssize_t limit, Py_ssize_t *n);
void bs_release_snapshot(Entry *copy, Py_ssize_t n);

/* apply.c: the hot loop and the Python slow paths it calls */
PyObject *bs_apply_levels(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *bs_setup(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *bs_decimal(PyObject *module, PyObject *arg);

#endif
