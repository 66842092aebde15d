/* datastores._cbookside.Level: one compact order-book level.
 *
 * A Level is the exchange's ["price", "size"] pair kept as the bytes of its
 * two strings in one small object, instead of a list holding two str objects
 * (about 40 bytes against about 190). It is an immutable sequence of two str:
 * level[0], level[1], len(), iteration, unpacking, slicing (a list) and ==
 * against a list, a tuple or another Level behave as the list's would; each
 * read of an item gives an equal str (the exchange's exact characters), made
 * for it or taken from a small cache of strings read before.
 *
 * Only exact str values of ASCII characters, at most LEVEL_MAX_LEN each, are
 * kept this way: level_from_pair() says 0 for anything else, and callers then
 * keep the exchange's own sequence. A Level holds no references, so it is not
 * tracked by the garbage collector.
 */
#ifndef DATASTORES_LEVEL_H
#define DATASTORES_LEVEL_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define LEVEL_MAX_LEN 255

typedef struct {
    PyObject_HEAD
    unsigned char plen; /* bytes of the price */
    unsigned char qlen; /* bytes of the size */
    char data[];        /* price then size, ASCII, no terminator */
} LevelObject;

extern PyTypeObject Level_Type;

#define Level_CheckExact(op) Py_IS_TYPE((op), &Level_Type)
#define LEVEL_PRICE(op) (((LevelObject *)(op))->data)
#define LEVEL_PLEN(op) ((Py_ssize_t)((LevelObject *)(op))->plen)
#define LEVEL_SIZE(op) (((LevelObject *)(op))->data + ((LevelObject *)(op))->plen)
#define LEVEL_QLEN(op) ((Py_ssize_t)((LevelObject *)(op))->qlen)

/* A new Level from ASCII bytes; each length at most LEVEL_MAX_LEN (the caller
 * checks both). NULL with MemoryError set. */
PyObject *level_new(const char *price, Py_ssize_t plen, const char *size, Py_ssize_t qlen);

/* A new reference to a compact ASCII str of `len` bytes (no check). */
PyObject *level_str(const char *text, Py_ssize_t len);

/* The same str as level_str(), possibly one made before for the same text (a
 * small fixed cache of the strings last read from Levels or decoded). */
PyObject *level_str_cached(const char *text, Py_ssize_t len);

/* `pair` as a new Level in *out: 1 when `pair` is an exact list or tuple of
 * exactly two exact ASCII str of at most LEVEL_MAX_LEN characters each; 0
 * (nothing set) for anything else; -1 with MemoryError set. Runs no Python
 * code. */
int level_from_pair(PyObject *pair, PyObject **out);

/* What a book side stores for `level`, as a new reference: `level` itself when
 * it is a Level; a new Level when level_from_pair() takes it; else `level`
 * itself (the exchange's own sequence, stored as received). NULL with
 * MemoryError set. Runs no Python code. */
PyObject *level_stored(PyObject *level);

/* checksum_text(bids, asks, depth) -> bytes | None: the ASCII bytes of
 * "bid1px:bid1sz:ask1px:ask1sz:..." over the best `depth` levels of two lists
 * (datastores._integrity.checksum_string), read from Levels' bytes without a
 * str per value; None when a level is neither a Level nor a list or tuple
 * whose first two items are ASCII str (the caller's Python version reads it). */
PyObject *level_checksum_text(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* The type's setup, for the module init. -1 on error. */
int level_ready(void);

#endif
