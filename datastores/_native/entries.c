/* The sorted entries of a native book side: see bookside.h. */
#include "bookside.h"
#include <string.h>

/* Find `rank`: *ci the chunk, *pos the bisect_left position inside it.
 * Returns 1 when an entry with that rank exists there. With no chunks,
 * *ci = 0 and *pos = 0. Past every chunk's last rank, the end of the last
 * chunk. Pure C: no Python code runs. */
int
bs_locate(SideObject *s, double rank, Py_ssize_t *ci, Py_ssize_t *pos)
{
    Py_ssize_t n = s->nchunks, lo, hi, mid;
    Chunk *c;
    if (n == 0) {
        *ci = 0;
        *pos = 0;
        return 0;
    }
    if (n == 1 || s->maxes[n - 2] < rank) {
        lo = n - 1; /* the top of the book: the last chunk */
    }
    else {
        lo = 0;
        hi = n - 1;
        while (lo < hi) {
            mid = (lo + hi) / 2;
            if (s->maxes[mid] < rank)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    c = &s->chunks[lo];
    *ci = lo;
    hi = c->len;
    if (c->e[hi - 1].rank < rank) {
        *pos = hi; /* past the best level */
        return 0;
    }
    lo = 0; /* now inside the chunk, whose last rank is >= rank */
    while (lo < hi) {
        mid = (lo + hi) / 2;
        if (c->e[mid].rank < rank)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return c->e[lo].rank == rank;
}

/* Make room for one more chunk in the chunk arrays. -1 on memory error. */
static int
reserve_chunk(SideObject *s)
{
    Py_ssize_t alloc;
    Chunk *chunks;
    double *maxes;
    if (s->nchunks < s->chunks_alloc)
        return 0;
    alloc = s->chunks_alloc ? s->chunks_alloc * 2 : 1;
    chunks = PyMem_Realloc(s->chunks, (size_t)alloc * sizeof(Chunk));
    if (chunks == NULL)
        return -1;
    s->chunks = chunks;
    maxes = PyMem_Realloc(s->maxes, (size_t)alloc * sizeof(double));
    if (maxes == NULL)
        return -1;
    s->maxes = maxes;
    s->chunks_alloc = alloc;
    return 0;
}

/* Insert a new entry at (ci, pos) as found by bs_locate(); steals no reference:
 * the caller has INCREF'd `level`. -1 (MemoryError set) leaves the side as it
 * was. Pure C. */
int
bs_insert_at(SideObject *s, Py_ssize_t ci, Py_ssize_t pos, double rank, PyObject *level)
{
    Chunk *c;
    if (s->nchunks == 0) {
        Entry *e;
        if (reserve_chunk(s) < 0)
            goto nomem;
        e = PyMem_Malloc(MIN_ALLOC * sizeof(Entry));
        if (e == NULL)
            goto nomem;
        s->chunks[0].len = 0;
        s->chunks[0].alloc = MIN_ALLOC;
        s->chunks[0].e = e;
        s->nchunks = 1;
        ci = 0;
        pos = 0;
    }
    c = &s->chunks[ci];
    if (c->len >= s->cap && pos == 0 && ci > 0 && s->chunks[ci - 1].len < s->cap) {
        /* Just below a full chunk: the end of the previous one is the same place. */
        ci--;
        c = &s->chunks[ci];
        pos = c->len;
    }
    else if (c->len >= s->cap && (pos == 0 || pos == c->len)) {
        /* Growing at an end of a full chunk (a sorted snapshot, a new best or
         * worst level): start a new chunk there instead of leaving two half-full
         * ones behind, so a book loaded in order fills its chunks. */
        Py_ssize_t at = pos == 0 ? ci : ci + 1;
        Entry *e;
        if (reserve_chunk(s) < 0)
            goto nomem;
        e = PyMem_Malloc(MIN_ALLOC * sizeof(Entry));
        if (e == NULL)
            goto nomem;
        memmove(s->chunks + at + 1, s->chunks + at, (size_t)(s->nchunks - at) * sizeof(Chunk));
        memmove(s->maxes + at + 1, s->maxes + at, (size_t)(s->nchunks - at) * sizeof(double));
        s->nchunks++;
        s->chunks[at].len = 0;
        s->chunks[at].alloc = MIN_ALLOC;
        s->chunks[at].e = e;
        ci = at;
        pos = 0;
        c = &s->chunks[ci];
    }
    else if (c->len >= s->cap) {
        /* Split the full chunk in two halves. */
        Py_ssize_t half = c->len / 2, right_len = c->len - half;
        Py_ssize_t right_alloc = s->cap;
        Entry *right;
        if (reserve_chunk(s) < 0)
            goto nomem;
        c = &s->chunks[ci]; /* reserve_chunk may have moved the array */
        right = PyMem_Malloc((size_t)right_alloc * sizeof(Entry));
        if (right == NULL)
            goto nomem;
        memcpy(right, c->e + half, (size_t)right_len * sizeof(Entry));
        c->len = half;
        memmove(s->chunks + ci + 2, s->chunks + ci + 1,
                (size_t)(s->nchunks - ci - 1) * sizeof(Chunk));
        memmove(s->maxes + ci + 2, s->maxes + ci + 1,
                (size_t)(s->nchunks - ci - 1) * sizeof(double));
        s->nchunks++;
        s->chunks[ci + 1].len = right_len;
        s->chunks[ci + 1].alloc = right_alloc;
        s->chunks[ci + 1].e = right;
        s->maxes[ci + 1] = right[right_len - 1].rank;
        s->maxes[ci] = c->e[half - 1].rank;
        if (pos > half) {
            ci++;
            pos -= half;
            c = &s->chunks[ci];
        }
    }
    if (c->len >= c->alloc) {
        Py_ssize_t alloc = c->alloc * 2;
        Entry *e;
        if (alloc > s->cap)
            alloc = s->cap;
        e = PyMem_Realloc(c->e, (size_t)alloc * sizeof(Entry));
        if (e == NULL)
            goto nomem;
        c->e = e;
        c->alloc = alloc;
    }
    memmove(c->e + pos + 1, c->e + pos, (size_t)(c->len - pos) * sizeof(Entry));
    c->e[pos].rank = rank;
    c->e[pos].level = level;
    c->len++;
    if (pos == c->len - 1)
        s->maxes[ci] = rank;
    s->count++;
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

/* Remove the entry at (ci, pos) and return its level (the caller owns the
 * reference and releases it once done with the side). Pure C. */
PyObject *
bs_remove_at(SideObject *s, Py_ssize_t ci, Py_ssize_t pos)
{
    Chunk *c = &s->chunks[ci];
    PyObject *level = c->e[pos].level;
    c->len--;
    memmove(c->e + pos, c->e + pos + 1, (size_t)(c->len - pos) * sizeof(Entry));
    s->count--;
    if (c->len == 0) {
        PyMem_Free(c->e);
        memmove(s->chunks + ci, s->chunks + ci + 1,
                (size_t)(s->nchunks - ci - 1) * sizeof(Chunk));
        memmove(s->maxes + ci, s->maxes + ci + 1,
                (size_t)(s->nchunks - ci - 1) * sizeof(double));
        s->nchunks--;
        return level;
    }
    if (pos == c->len)
        s->maxes[ci] = c->e[c->len - 1].rank;
    /* Merge a small chunk into a neighbour so that deletions never leave many
     * tiny chunks behind; shrink an oversized allocation. */
    if (c->len * 4 <= s->cap && s->nchunks > 1) {
        Py_ssize_t left = ci + 1 < s->nchunks ? ci : ci - 1;
        Chunk *a = &s->chunks[left], *b = &s->chunks[left + 1];
        if (a->len + b->len <= s->cap / 2) {
            if (a->alloc < a->len + b->len) {
                Entry *e = PyMem_Realloc(a->e, (size_t)(a->len + b->len) * sizeof(Entry));
                if (e == NULL)
                    return level; /* no merge: the side stays valid */
                a->e = e;
                a->alloc = a->len + b->len;
            }
            memcpy(a->e + a->len, b->e, (size_t)b->len * sizeof(Entry));
            a->len += b->len;
            s->maxes[left] = s->maxes[left + 1];
            PyMem_Free(b->e);
            memmove(s->chunks + left + 1, s->chunks + left + 2,
                    (size_t)(s->nchunks - left - 2) * sizeof(Chunk));
            memmove(s->maxes + left + 1, s->maxes + left + 2,
                    (size_t)(s->nchunks - left - 2) * sizeof(double));
            s->nchunks--;
            return level;
        }
    }
    if (c->alloc > MIN_ALLOC && c->len * 4 < c->alloc) {
        Entry *e = PyMem_Realloc(c->e, (size_t)(c->alloc / 2) * sizeof(Entry));
        if (e != NULL) {
            c->e = e;
            c->alloc /= 2;
        }
    }
    return level;
}

/* Detach every entry from the side (which is empty afterwards), then release
 * the levels: their finalizers see an empty, valid side. */
void
bs_empty(SideObject *s)
{
    Chunk *chunks = s->chunks;
    Py_ssize_t n = s->nchunks, i, j;
    PyMem_Free(s->maxes);
    s->chunks = NULL;
    s->maxes = NULL;
    s->nchunks = 0;
    s->chunks_alloc = 0;
    s->count = 0;
    for (i = 0; i < n; i++) {
        for (j = 0; j < chunks[i].len; j++)
            Py_DECREF(chunks[i].e[j].level);
        PyMem_Free(chunks[i].e);
    }
    PyMem_Free(chunks);
}

/* A copy of the best `limit` entries (all when limit < 0), best first, each
 * level with a new reference; for readers that allocate Python objects (which
 * may run the GC and so arbitrary code). NULL with *n = 0 when empty. */
Entry *
bs_snapshot(SideObject *s, Py_ssize_t limit, Py_ssize_t *n)
{
    Py_ssize_t k = s->count, out = 0, i, j;
    Entry *copy;
    if (limit >= 0 && limit < k)
        k = limit;
    *n = 0;
    if (k == 0)
        return NULL;
    copy = PyMem_Malloc((size_t)k * sizeof(Entry));
    if (copy == NULL) {
        PyErr_NoMemory();
        *n = -1;
        return NULL;
    }
    for (i = s->nchunks - 1; i >= 0 && out < k; i--) {
        Chunk *c = &s->chunks[i];
        for (j = c->len - 1; j >= 0 && out < k; j--) {
            copy[out] = c->e[j];
            Py_INCREF(copy[out].level);
            out++;
        }
    }
    *n = out;
    return copy;
}

void
bs_release_snapshot(Entry *copy, Py_ssize_t n)
{
    Py_ssize_t i;
    for (i = 0; i < n; i++)
        Py_DECREF(copy[i].level);
    PyMem_Free(copy);
}

