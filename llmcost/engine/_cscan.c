/* Group totals of wire-format lines, straight from the bytes: the compiled path of ``llmcost report``.
 *
 * A Scanner is fed blocks of complete lines. ``scan`` parses every line of a block into a staging area and returns
 * how many records it holds and their smallest and largest timestamps; ``commit`` takes them in order, drops those
 * whose id was seen before (the follower's rule, with its two generations of ids) and adds the others to the group
 * totals; ``fresh`` applies the same duplicate check to a block the caller read the Python way; ``rows`` hands the
 * totals back. A block is accepted only when every line is one that the slim msgspec decoder of ``_scan.py`` reads
 * to the very same values: anything else (an escape in a field that is read, a number that does not fit, a record
 * with usage and no cost, a second object on a line, a line that is not JSON) makes ``scan`` return None, and the
 * block takes the Python path, which knows every rule. So this file needs to be right only about what it accepts.
 *
 * The arithmetic is the Python path's: a cost adds round(cost_usd * 1e12) pico-dollars (round half to even, as
 * float.__round__), and a latency falls in sketch bucket floor(log(v) / log(1.02)), or the zero bucket at or below
 * 1 µs, with the same libm calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The groupings; BY_DAY_MODEL keys a group "YYYY-MM-DD\nmodel" (the day alone when the record names no model). */
enum { BY_AGENT, BY_MODEL, BY_PROVIDER, BY_USER, BY_SESSION, BY_WORKFLOW, BY_DAY, BY_DAY_MODEL, BY_COUNT };

#define COMPOSITE_MAX 512 /* a longer day-and-model key sends its block the Python way */

enum {
    F_TS,
    F_ID,
    F_STREAM,
    F_IN,
    F_OUT,
    F_CACHE_READ,
    F_CACHE_WRITE,
    F_REASONING,
    F_GPU,
    F_COST,
    F_LATENCY,
    F_TTFT,
    F_STATUS,
    F_ATTEMPT,
    F_KEY,       /* agent, provider, user_id, session_id, workflow; response_model by model */
    F_KEY2,      /* request_model by model */
    F_SKIP,
};

/* The keys of the last line read, in order: lines written by one program repeat them, so a key is first compared
 * with the one the previous line had at the same place (its quotes included), and read in full only when it
 * differs. */
#define KNOWN_KEYS 64
#define KNOWN_KEY_MAX 40

typedef struct {
    unsigned char len; /* 0: none yet */
    signed char field;
    char bytes[KNOWN_KEY_MAX];
} Known;

/* The sums of a group, in the order ``rows`` returns them. */
enum { S_CALLS, S_ERRORS, S_RETRIES, S_IN, S_OUT, S_CACHE_READ, S_CACHE_WRITE, S_REASONING, S_PICO, S_UNPRICED, NSUMS };

#define ZERO_BUCKET (-1000000)
#define MAX_DEPTH 64

static double LOG_GAMMA;

/* ---- one parsed line ---------------------------------------------------------------------------------------- */

typedef struct {
    const char *p; /* NULL: absent or null */
    Py_ssize_t n;
    int high; /* has bytes >= 0x80 */
} Span;

typedef struct {
    int64_t v;
    int present;
} OptInt;

typedef struct {
    double v;
    int32_t bucket;
    int present;
} OptFloat;

typedef struct {
    Span ts, id, key, key2;
    int has_ts, has_id;
    int stream;
    OptInt tokens[5]; /* in, out, cache read, cache write, reasoning */
    OptFloat gpu, cost, latency, ttft;
    int status; /* 0 ok, 1 error, 2 cancelled */
    int64_t attempt;
} Line;

/* What a line adds, staged until the caller commits the block. */
typedef struct {
    Py_ssize_t group;
    const char *id; /* in the scanned block, which the Scanner holds until the next scan */
    Py_ssize_t id_len;
    int id_high;
    int64_t tokens[5];
    int64_t pico;
    int32_t latency_bucket, ttft_bucket;
    unsigned char error, retry, priced, has_latency, has_ttft;
} Staged;

/* ---- groups: key bytes -> sums and sketches ----------------------------------------------------------------- */

typedef struct {
    char *bytes; /* NULL for the None key */
    Py_ssize_t n;
    uint64_t hash;
    int64_t sums[NSUMS];
    PyObject *spill[NSUMS]; /* what overflowed int64, as Python ints */
} Group;

typedef struct {
    uint64_t key; /* group << 33 | sketch << 32 | (uint32) bucket; 0 = empty (group indexes start at 1 here) */
    int64_t count;
} Cell;

/* ---- record ids: two generations, as the follower's duplicate check keeps them --------------------------------- */

typedef struct Chunk {
    struct Chunk *next;
    size_t used, size;
    char bytes[];
} Chunk;

typedef struct {
    uint64_t hash;
    const char *bytes;
    Py_ssize_t n;
} IdEntry;

/* Open addressing over 8-byte slots (the high half of the hash, or-ed with 1, above the entry's index; 0: empty):
 * a lookup reads an entry only when the hash halves match, and the slots of a full generation (200,000 ids) take
 * 4 MB, so both generations of both processes stay in the CPU's last cache. */
typedef struct {
    uint64_t *slots;
    Py_ssize_t cap, count;
    IdEntry *entries;
    Py_ssize_t entries_cap;
    Chunk *chunks; /* the id bytes */
} IdGen;

#define TAG(hash) (((hash) >> 32 | 1) << 32)

typedef struct {
    PyObject_HEAD
    int by;
    Group *groups;
    Py_ssize_t ngroups, groups_cap;
    Py_ssize_t *slots; /* open addressing over groups: index + 1, 0 = empty */
    Py_ssize_t slots_cap;
    Py_ssize_t none_group; /* -1 until a record has no key */
    Cell *cells;
    Py_ssize_t ncells, cells_cap;
    Staged *staged;
    Py_ssize_t nstaged, staged_cap;
    int failed; /* an allocation failed while committing: rows() raises */
    Known known[KNOWN_KEYS];
    Py_buffer block; /* the block last scanned (block.obj NULL: none), which the staged ids point into */
    IdGen ids[2];    /* ids[current], ids[!current]: the ids remembered, as the follower's _Seen */
    int current;
    Py_ssize_t dedupe;   /* ids per generation */
    PyObject *head;      /* the first fresh ids, as str */
    Py_ssize_t head_max;
} Scanner;

static uint64_t SEED; /* random at import: crafted ids or keys cannot aim at one slot */

/* The hash of group keys and record ids: eight bytes at a time, never 0 (0 marks an empty id slot). */
static uint64_t
hash_bytes(const char *p, Py_ssize_t n)
{
    uint64_t h = SEED ^ ((uint64_t)n * 0x9E3779B97F4A7C15ULL), w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, p, (size_t)n);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    return h ? h : 1;
}

static int
grow_slots(Scanner *s)
{
    Py_ssize_t cap = s->slots_cap ? s->slots_cap * 2 : 64;
    Py_ssize_t *slots = PyMem_Calloc((size_t)cap, sizeof(Py_ssize_t));
    if (slots == NULL) {
        return -1;
    }
    for (Py_ssize_t g = 0; g < s->ngroups; g++) {
        if (s->groups[g].bytes == NULL && g == s->none_group) {
            continue;
        }
        Py_ssize_t i = (Py_ssize_t)(s->groups[g].hash & (uint64_t)(cap - 1));
        while (slots[i]) {
            i = (i + 1) & (cap - 1);
        }
        slots[i] = g + 1;
    }
    PyMem_Free(s->slots);
    s->slots = slots;
    s->slots_cap = cap;
    return 0;
}

static Py_ssize_t
new_group(Scanner *s, const char *p, Py_ssize_t n, uint64_t hash)
{
    if (s->ngroups == s->groups_cap) {
        Py_ssize_t cap = s->groups_cap ? s->groups_cap * 2 : 16;
        Group *groups = PyMem_Realloc(s->groups, (size_t)cap * sizeof(Group));
        if (groups == NULL) {
            return -1;
        }
        s->groups = groups;
        s->groups_cap = cap;
    }
    Group *g = &s->groups[s->ngroups];
    memset(g, 0, sizeof(Group));
    if (p != NULL) {
        g->bytes = PyMem_Malloc((size_t)(n ? n : 1));
        if (g->bytes == NULL) {
            return -1;
        }
        memcpy(g->bytes, p, (size_t)n);
    }
    g->n = n;
    g->hash = hash;
    return s->ngroups++;
}

/* The group of a key (p == NULL: the None key); -1 when memory runs out. */
static Py_ssize_t
group_of(Scanner *s, const char *p, Py_ssize_t n)
{
    if (p == NULL) {
        if (s->none_group < 0) {
            s->none_group = new_group(s, NULL, 0, 0);
        }
        return s->none_group;
    }
    if (2 * (s->ngroups + 1) > s->slots_cap && grow_slots(s) < 0) {
        return -1;
    }
    uint64_t hash = hash_bytes(p, n);
    Py_ssize_t mask = s->slots_cap - 1;
    Py_ssize_t i = (Py_ssize_t)(hash & (uint64_t)mask);
    while (s->slots[i]) {
        Group *g = &s->groups[s->slots[i] - 1];
        if (g->hash == hash && g->n == n && g->bytes != NULL && memcmp(g->bytes, p, (size_t)n) == 0) {
            return s->slots[i] - 1;
        }
        i = (i + 1) & mask;
    }
    Py_ssize_t index = new_group(s, p, n, hash);
    if (index >= 0) {
        s->slots[i] = index + 1;
    }
    return index;
}

static int
add_sum(Group *g, int which, int64_t v)
{
    int64_t *acc = &g->sums[which];
    if ((v > 0 && *acc > INT64_MAX - v) || (v < 0 && *acc < INT64_MIN - v)) {
        PyObject *old = PyLong_FromLongLong(*acc);
        if (old == NULL) {
            return -1;
        }
        PyObject *total = g->spill[which] ? PyNumber_Add(g->spill[which], old) : (Py_INCREF(old), old);
        Py_DECREF(old);
        if (total == NULL) {
            return -1;
        }
        Py_XSETREF(g->spill[which], total);
        *acc = v;
        return 0;
    }
    *acc += v;
    return 0;
}

static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static int
grow_cells(Scanner *s)
{
    Py_ssize_t cap = s->cells_cap ? s->cells_cap * 2 : 1024;
    Cell *cells = PyMem_Calloc((size_t)cap, sizeof(Cell));
    if (cells == NULL) {
        return -1;
    }
    for (Py_ssize_t k = 0; k < s->cells_cap; k++) {
        if (s->cells[k].key) {
            Py_ssize_t i = (Py_ssize_t)(mix64(s->cells[k].key) & (uint64_t)(cap - 1));
            while (cells[i].key) {
                i = (i + 1) & (cap - 1);
            }
            cells[i] = s->cells[k];
        }
    }
    PyMem_Free(s->cells);
    s->cells = cells;
    s->cells_cap = cap;
    return 0;
}

static int
add_bucket(Scanner *s, Py_ssize_t group, int sketch, int32_t bucket)
{
    if (2 * (s->ncells + 1) > s->cells_cap && grow_cells(s) < 0) {
        return -1;
    }
    uint64_t key = ((uint64_t)(group + 1) << 33) | ((uint64_t)sketch << 32) | (uint32_t)bucket;
    Py_ssize_t mask = s->cells_cap - 1;
    Py_ssize_t i = (Py_ssize_t)(mix64(key) & (uint64_t)mask);
    while (s->cells[i].key) {
        if (s->cells[i].key == key) {
            s->cells[i].count++;
            return 0;
        }
        i = (i + 1) & mask;
    }
    s->cells[i].key = key;
    s->cells[i].count = 1;
    s->ncells++;
    return 0;
}

/* ---- the id set ------------------------------------------------------------------------------------------------ */

static int
id_known(const IdGen *gen, uint64_t hash, const char *p, Py_ssize_t n)
{
    if (gen->count == 0) {
        return 0;
    }
    Py_ssize_t mask = gen->cap - 1;
    uint64_t tag = TAG(hash);
    for (Py_ssize_t i = (Py_ssize_t)(hash & (uint64_t)mask); gen->slots[i]; i = (i + 1) & mask) {
        uint64_t slot = gen->slots[i];
        if ((slot & 0xFFFFFFFF00000000ULL) == tag) {
            const IdEntry *e = &gen->entries[slot & 0xFFFFFFFFULL];
            if (e->n == n && memcmp(e->bytes, p, (size_t)n) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static void
id_place(IdGen *gen, uint64_t hash, Py_ssize_t index)
{
    Py_ssize_t mask = gen->cap - 1;
    Py_ssize_t i = (Py_ssize_t)(hash & (uint64_t)mask);
    while (gen->slots[i]) {
        i = (i + 1) & mask;
    }
    gen->slots[i] = TAG(hash) | (uint64_t)index;
}

/* Add an id known to be absent; -1 when memory runs out. */
static int
id_add(IdGen *gen, uint64_t hash, const char *p, Py_ssize_t n)
{
    if (gen->count >= 0xFFFFFFFFLL) {
        return -1; /* the index would not fit its slot (a generation holds the dedupe cap: far fewer) */
    }
    if (2 * (gen->count + 1) > gen->cap) {
        Py_ssize_t cap = gen->cap ? gen->cap * 2 : 1024;
        uint64_t *slots = PyMem_Calloc((size_t)cap, sizeof(uint64_t));
        if (slots == NULL) {
            return -1;
        }
        PyMem_Free(gen->slots);
        gen->slots = slots;
        gen->cap = cap;
        for (Py_ssize_t k = 0; k < gen->count; k++) {
            id_place(gen, gen->entries[k].hash, k);
        }
    }
    if (gen->count == gen->entries_cap) {
        Py_ssize_t cap = gen->entries_cap ? gen->entries_cap * 2 : 1024;
        IdEntry *entries = PyMem_Realloc(gen->entries, (size_t)cap * sizeof(IdEntry));
        if (entries == NULL) {
            return -1;
        }
        gen->entries = entries;
        gen->entries_cap = cap;
    }
    Chunk *chunk = gen->chunks;
    if (chunk == NULL || chunk->size - chunk->used < (size_t)n) {
        size_t size = (size_t)n > (1 << 20) ? (size_t)n : (1 << 20);
        Chunk *fresh = PyMem_Malloc(sizeof(Chunk) + size);
        if (fresh == NULL) {
            return -1;
        }
        fresh->next = chunk;
        fresh->used = 0;
        fresh->size = size;
        gen->chunks = chunk = fresh;
    }
    char *copy = chunk->bytes + chunk->used;
    memcpy(copy, p, (size_t)n);
    chunk->used += (size_t)n;
    gen->entries[gen->count] = (IdEntry){hash, copy, n};
    id_place(gen, hash, gen->count);
    gen->count++;
    return 0;
}

static void
id_clear(IdGen *gen)
{
    PyMem_Free(gen->slots);
    PyMem_Free(gen->entries);
    for (Chunk *c = gen->chunks, *next; c != NULL; c = next) {
        next = c->next;
        PyMem_Free(c);
    }
    memset(gen, 0, sizeof(IdGen));
}

/* Whether the id is new (then remembered): 1 new, 0 seen before, -1 out of memory. */
static int
id_fresh(Scanner *s, const char *p, Py_ssize_t n)
{
    uint64_t hash = hash_bytes(p, n);
    if (id_known(&s->ids[s->current], hash, p, n) || id_known(&s->ids[!s->current], hash, p, n)) {
        return 0;
    }
    return id_add(&s->ids[s->current], hash, p, n) < 0 ? -1 : 1;
}

/* After each block, as _Seen does: a full current generation becomes the previous one. */
static void
id_rotate(Scanner *s)
{
    if (s->ids[s->current].count >= s->dedupe) {
        s->current = !s->current;
        id_clear(&s->ids[s->current]);
    }
}

/* The UTF-8 bytes of a str id (ids read from JSON are valid UTF-8; others are encoded with surrogatepass). */
static const char *
id_bytes(PyObject *id, Py_ssize_t *n, PyObject **keep)
{
    *keep = NULL;
    if (!PyUnicode_Check(id)) {
        PyErr_SetString(PyExc_TypeError, "record ids are str");
        return NULL;
    }
    const char *p = PyUnicode_AsUTF8AndSize(id, n);
    if (p != NULL) {
        return p;
    }
    PyErr_Clear();
    *keep = PyUnicode_AsEncodedString(id, "utf-8", "surrogatepass");
    if (*keep == NULL) {
        return NULL;
    }
    *n = PyBytes_GET_SIZE(*keep);
    return PyBytes_AS_STRING(*keep);
}

static int
keep_head(Scanner *s, PyObject *id)
{
    if (PyList_GET_SIZE(s->head) >= s->head_max) {
        return 0;
    }
    return PyList_Append(s->head, id);
}

/* ---- JSON, strictly: only what the slim decoder reads the same way ------------------------------------------- */

/* 1: ends a run of plain string bytes (quote, backslash, control character) */
static unsigned char STOP[256];

/* Literals are compared a byte at a time, left to right: the newline that ends every line never matches, so no
 * comparison reads past it (memcmp might). */
#define IS_TRUE(p) ((p)[0] == 't' && (p)[1] == 'r' && (p)[2] == 'u' && (p)[3] == 'e')
#define IS_FALSE(p) ((p)[0] == 'f' && (p)[1] == 'a' && (p)[2] == 'l' && (p)[3] == 's' && (p)[4] == 'e')
#define IS_NULL(p) ((p)[0] == 'n' && (p)[1] == 'u' && (p)[2] == 'l' && (p)[3] == 'l')

static inline const char *
skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r') {
        p++;
    }
    return p;
}

#define ONES 0x0101010101010101ULL

/* Non-zero when a byte of the word is a quote, a backslash or below 0x20 (the first flagged byte is always right:
 * "Bit Twiddling Hacks", determine if a word has a byte equal to / less than n). */
static inline uint64_t
stop_mask(uint64_t w)
{
    uint64_t quote = w ^ (ONES * '"');
    uint64_t slash = w ^ (ONES * '\\');
    return (((quote - ONES) & ~quote) | ((slash - ONES) & ~slash) | ((w - ONES * 0x20) & ~w)) & (ONES * 0x80);
}

/* Past the closing quote of a string whose opening quote is before p; NULL when the block must go the Python way
 * (a \u escape, an invalid escape, a raw control character). *escaped tells whether it held any escape. */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

static ALWAYS_INLINE const char *
skip_string(const char *p, const char *limit, int *escaped)
{
    for (;;) {
        uint64_t word, mask = 0;
        while (p + 8 <= limit) { /* eight bytes at a time while none of them ends the run */
            memcpy(&word, p, 8);
            if ((mask = stop_mask(word)) != 0) {
                break;
            }
            p += 8;
        }
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (mask) {
            p += __builtin_ctzll(mask) >> 3; /* the first flagged byte, the lowest in memory */
        }
#endif
        while (!STOP[(unsigned char)*p]) {
            p++;
        }
        switch (*p) {
        case '"':
            return p + 1;
        case '\\':
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                *escaped = 1;
                p += 2;
                continue;
            default:
                return NULL; /* \u (surrogate rules) or not an escape */
            }
        default:
            return NULL; /* a raw control character, or the line's end */
        }
    }
}

/* Strict UTF-8, as Python's decoder (and so msgspec) takes it: no overlong forms, no surrogates, up to U+10FFFF. */
static int
valid_utf8(const unsigned char *p, Py_ssize_t n)
{
    const unsigned char *end = p + n;
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        Py_ssize_t len;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) {
                lo = 0xA0;
            }
            else if (c == 0xED) {
                hi = 0x9F;
            }
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) {
                lo = 0x90;
            }
            else if (c == 0xF4) {
                hi = 0x8F;
            }
        }
        else {
            return 0;
        }
        if (end - p < len || p[1] < lo || p[1] > hi) {
            return 0;
        }
        for (Py_ssize_t k = 2; k < len; k++) {
            if (p[k] < 0x80 || p[k] > 0xBF) {
                return 0;
            }
        }
        p += len;
    }
    return 1;
}

typedef struct {
    const char *start, *end;
    int integral; /* no fraction, no exponent */
    int negative;
    uint64_t mantissa; /* the significant digits, when there are at most 19 */
    int digits;        /* significant digits (leading zeros of the integer part not counted) */
    int exponent;      /* value = mantissa * 10^exponent, when digits <= 19 */
} Number;

/* A JSON number (RFC 8259 grammar); NULL when it is not one. */
static const char *
scan_number(const char *p, Number *num)
{
    num->start = p;
    num->negative = 0;
    num->mantissa = 0;
    num->digits = 0;
    num->exponent = 0;
    num->integral = 1;
    if (*p == '-') {
        num->negative = 1;
        p++;
    }
    if (*p == '0') {
        p++;
    }
    else if (*p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9') {
            if (num->digits < 19) {
                num->mantissa = num->mantissa * 10 + (uint64_t)(*p - '0');
            }
            else {
                num->exponent++;
            }
            num->digits++;
            p++;
        }
    }
    else {
        return NULL;
    }
    if (*p == '.') {
        num->integral = 0;
        p++;
        if (!(*p >= '0' && *p <= '9')) {
            return NULL;
        }
        while (*p >= '0' && *p <= '9') {
            if (num->digits == 0 && *p == '0') {
                num->exponent--; /* 0.000123: leading zeros are not significant */
            }
            else {
                if (num->digits < 19) {
                    num->mantissa = num->mantissa * 10 + (uint64_t)(*p - '0');
                    num->exponent--;
                }
                num->digits++;
            }
            p++;
        }
    }
    if (*p == 'e' || *p == 'E') {
        num->integral = 0;
        p++;
        int sign = 1, e = 0;
        if (*p == '+' || *p == '-') {
            sign = *p == '-' ? -1 : 1;
            p++;
        }
        if (!(*p >= '0' && *p <= '9')) {
            return NULL;
        }
        while (*p >= '0' && *p <= '9') {
            if (e < 100000) {
                e = e * 10 + (*p - '0');
            }
            p++;
        }
        num->exponent += sign * e;
    }
    num->end = p;
    return p;
}

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The double nearest to the number (correctly rounded); 0 when it is out of the range read here. */
static int
number_to_double(const Number *num, double *out)
{
    if (num->digits == 0 || num->mantissa == 0) {
        *out = num->negative ? -0.0 : 0.0;
        return 1;
    }
    if (num->digits <= 19 && num->mantissa <= (1ULL << 53) && num->exponent >= -22 && num->exponent <= 22) {
        /* both factors exact, one rounding: the correctly rounded result (Clinger's fast path) */
        double v = (double)num->mantissa;
        v = num->exponent < 0 ? v / POW10[-num->exponent] : v * POW10[num->exponent];
        *out = num->negative ? -v : v;
        return 1;
    }
    int magnitude = num->exponent + (num->digits < 19 ? num->digits : 19);
    if (magnitude > 300 || magnitude < -300) {
        return 0; /* near or past the limits of a double: the Python way */
    }
    char *end = NULL;
    double v = PyOS_string_to_double(num->start, &end, NULL);
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (end != num->end || !isfinite(v)) {
        return 0;
    }
    *out = v;
    return 1;
}

/* An integer that fits int64 (no fraction, no exponent); 0 otherwise. */
static int
number_to_int(const Number *num, int64_t *out)
{
    if (!num->integral || num->digits > 19) {
        return 0;
    }
    uint64_t m = num->mantissa;
    if (num->negative) {
        if (m > (uint64_t)INT64_MAX + 1) {
            return 0;
        }
        *out = (int64_t)(0 - m);
    }
    else {
        if (m > (uint64_t)INT64_MAX) {
            return 0;
        }
        *out = (int64_t)m;
    }
    return 1;
}

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* Past a JSON number that is not kept (the grammar of scan_number, without the arithmetic). */
static const char *
skip_number(const char *p)
{
    p += *p == '-';
    if (*p == '0') {
        p++;
    }
    else if (*p >= '1' && *p <= '9') {
        while (IS_DIGIT(*p)) {
            p++;
        }
    }
    else {
        return NULL;
    }
    if (*p == '.') {
        if (!IS_DIGIT(p[1])) {
            return NULL;
        }
        p += 2;
        while (IS_DIGIT(*p)) {
            p++;
        }
    }
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '+' || p[1] == '-');
        if (!IS_DIGIT(*p)) {
            return NULL;
        }
        while (IS_DIGIT(*p)) {
            p++;
        }
    }
    return p;
}

/* Any JSON value, validated, not kept. */
static const char *
skip_value(const char *p, const char *limit, int depth)
{
    int escaped = 0;
    switch (*p) {
    case '"':
        return skip_string(p + 1, limit, &escaped);
    case '{':
        if (depth >= MAX_DEPTH) {
            return NULL;
        }
        p = skip_ws(p + 1);
        if (*p == '}') {
            return p + 1;
        }
        for (;;) {
            if (*p != '"' || (p = skip_string(p + 1, limit, &escaped)) == NULL) {
                return NULL;
            }
            p = skip_ws(p);
            if (*p != ':') {
                return NULL;
            }
            p = skip_ws(p + 1);
            if ((p = skip_value(p, limit, depth + 1)) == NULL) {
                return NULL;
            }
            p = skip_ws(p);
            if (*p == '}') {
                return p + 1;
            }
            if (*p != ',') {
                return NULL;
            }
            p = skip_ws(p + 1);
        }
    case '[':
        if (depth >= MAX_DEPTH) {
            return NULL;
        }
        p = skip_ws(p + 1);
        if (*p == ']') {
            return p + 1;
        }
        for (;;) {
            if ((p = skip_value(p, limit, depth + 1)) == NULL) {
                return NULL;
            }
            p = skip_ws(p);
            if (*p == ']') {
                return p + 1;
            }
            if (*p != ',') {
                return NULL;
            }
            p = skip_ws(p + 1);
        }
    case 't':
        return IS_TRUE(p) ? p + 4 : NULL;
    case 'f':
        return IS_FALSE(p) ? p + 5 : NULL;
    case 'n':
        return IS_NULL(p) ? p + 4 : NULL;
    default:
        return skip_number(p);
    }
}

static int
field_of(const char *k, Py_ssize_t n, int by)
{
#define IS(lit) (n == (Py_ssize_t)sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)
    switch (n) {
    case 2:
        if (IS("ts")) return F_TS;
        if (IS("id")) return F_ID;
        break;
    case 5:
        if (IS("agent")) return by == BY_AGENT ? F_KEY : F_SKIP;
        break;
    case 6:
        if (IS("stream")) return F_STREAM;
        if (IS("status")) return F_STATUS;
        break;
    case 7:
        if (IS("ttft_ms")) return F_TTFT;
        if (IS("attempt")) return F_ATTEMPT;
        if (IS("user_id")) return by == BY_USER ? F_KEY : F_SKIP;
        break;
    case 8:
        if (IS("cost_usd")) return F_COST;
        if (IS("provider")) return by == BY_PROVIDER ? F_KEY : F_SKIP;
        if (IS("workflow")) return by == BY_WORKFLOW ? F_KEY : F_SKIP;
        break;
    case 10:
        if (IS("latency_ms")) return F_LATENCY;
        if (IS("session_id")) return by == BY_SESSION ? F_KEY : F_SKIP;
        break;
    case 11:
        if (IS("gpu_seconds")) return F_GPU;
        break;
    case 12:
        if (IS("input_tokens")) return F_IN;
        break;
    case 13:
        if (IS("output_tokens")) return F_OUT;
        if (IS("request_model")) return by == BY_MODEL || by == BY_DAY_MODEL ? F_KEY2 : F_SKIP;
        break;
    case 14:
        if (IS("response_model")) return by == BY_MODEL || by == BY_DAY_MODEL ? F_KEY : F_SKIP;
        break;
    case 23:
        if (IS("cache_read_input_tokens")) return F_CACHE_READ;
        if (IS("reasoning_output_tokens")) return F_REASONING;
        break;
    case 27:
        if (IS("cache_creation_input_tokens")) return F_CACHE_WRITE;
        break;
    }
    return F_SKIP;
#undef IS
}

/* A string value read into a span (null: an absent span when nullable); NULL when the block goes the Python way. */
static const char *
read_string(const char *p, const char *limit, Span *span, int nullable)
{
    if (*p == 'n' && nullable) {
        if (!IS_NULL(p)) {
            return NULL;
        }
        span->p = NULL;
        return p + 4;
    }
    if (*p != '"') {
        return NULL;
    }
    int escaped = 0;
    const char *end = skip_string(p + 1, limit, &escaped);
    if (end == NULL || escaped) {
        return NULL;
    }
    span->p = p + 1;
    span->n = end - 1 - (p + 1);
    span->high = 0;
    for (Py_ssize_t i = 0; i < span->n; i++) {
        span->high |= (unsigned char)span->p[i] >> 7;
    }
    if (span->high && !valid_utf8((const unsigned char *)span->p, span->n)) {
        return NULL;
    }
    return end;
}

static const char *
read_opt_int(const char *p, OptInt *out, int nullable)
{
    if (*p == 'n' && nullable) {
        out->present = 0;
        return IS_NULL(p) ? p + 4 : NULL;
    }
    Number num;
    const char *end = scan_number(p, &num);
    if (end == NULL || !number_to_int(&num, &out->v)) {
        return NULL;
    }
    out->present = 1;
    return end;
}

static int32_t bucket_of(double v);

enum { EXACT, BUCKET, PRESENCE };

/* A float field or null (absent). EXACT keeps the double msgspec would read; BUCKET keeps only its sketch bucket;
 * PRESENCE only checks that it is a number msgspec reads. NULL: the Python way. */
static const char *
read_opt_float(const char *p, OptFloat *out, int mode)
{
    if (*p == 'n') {
        out->present = 0;
        return IS_NULL(p) ? p + 4 : NULL;
    }
    Number num;
    const char *end = scan_number(p, &num);
    if (end == NULL) {
        return NULL;
    }
    out->present = 1;
    int plain = num.digits <= 19 && num.exponent >= -22 && num.exponent <= 22; /* well inside a double's range */
    if (mode == PRESENCE && plain) {
        return end;
    }
    if (mode == BUCKET && plain) {
        if (num.negative || num.mantissa == 0) {
            out->bucket = ZERO_BUCKET;
            return end;
        }
        /* within a few units in the last place of the double: its bucket is certain unless log(v) / log(1.02) is
         * within 1e-9 of a whole number, or v within 1e-12 of the 1 µs floor (the error is below 1e-13) */
        double v = (double)num.mantissa;
        v = num.exponent < 0 ? v / POW10[-num.exponent] : v * POW10[num.exponent];
        if (fabs(v - 0.001) > 1e-12) {
            if (v <= 0.001) {
                out->bucket = ZERO_BUCKET;
                return end;
            }
            double x = log(v) / LOG_GAMMA;
            double f = floor(x);
            if (x - f > 1e-9 && f + 1 - x > 1e-9) {
                out->bucket = (int32_t)f;
                return end;
            }
        }
    }
    if (!number_to_double(&num, &out->v)) {
        return NULL;
    }
    if (mode == BUCKET) {
        out->bucket = bucket_of(out->v);
    }
    return end;
}

/* Whether n bytes are equal: a few word compares for a short key (reads stay inside both ranges). */
static ALWAYS_INLINE int
same_bytes(const char *a, const char *b, size_t n)
{
    uint64_t x, y;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y) {
                return 0;
            }
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t u, v, w, z;
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        memcpy(&w, a + n - 4, 4);
        memcpy(&z, b + n - 4, 4);
        return u == v && w == z;
    }
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return 0;
        }
    }
    return 1;
}

/* One line: 1 read, 0 blank (*next: the start of the next line), -1 the Python way. Every line of the block ends
 * with a newline, which stops every scan; limit (the block's end) only bounds reads of eight bytes at a time. */
static int
parse_line(const char *p, const char *limit, int by, Known *known, Line *line, const char **next)
{
    int member = 0;
    line->ts.p = line->id.p = line->key.p = line->key2.p = NULL;
    line->has_ts = line->has_id = line->stream = line->status = 0;
    line->attempt = 0;
    for (int k = 0; k < 5; k++) {
        line->tokens[k].present = 0;
    }
    line->gpu.present = line->cost.present = line->latency.present = line->ttft.present = 0;
    p = skip_ws(p);
    if (*p == '\n') {
        *next = p + 1;
        return 0;
    }
    if (*p != '{') {
        return -1;
    }
    p = skip_ws(p + 1);
    if (*p != '}') {
        for (;;) {
            if (*p != '"') {
                return -1;
            }
            const char *after;
            int field;
            Known *k = member < KNOWN_KEYS ? &known[member] : NULL;
            member++;
            if (k != NULL && k->len && limit - p > k->len && same_bytes(p, k->bytes, k->len)) {
                after = p + k->len; /* the key the previous line had here */
                field = k->field;
            }
            else {
                int escaped = 0;
                after = skip_string(p + 1, limit, &escaped);
                if (after == NULL || escaped) {
                    return -1; /* an escaped key might spell a field's name */
                }
                field = field_of(p + 1, after - 2 - p, by);
                if (k != NULL && after - p <= KNOWN_KEY_MAX) {
                    k->len = (unsigned char)(after - p);
                    k->field = (signed char)field;
                    memcpy(k->bytes, p, (size_t)k->len);
                }
            }
            p = skip_ws(after);
            if (*p != ':') {
                return -1;
            }
            p = skip_ws(p + 1);
            OptInt attempt;
            switch (field) {
            case F_TS:
                p = read_string(p, limit, &line->ts, 0);
                line->has_ts = 1;
                break;
            case F_ID:
                p = read_string(p, limit, &line->id, 0);
                line->has_id = 1;
                break;
            case F_KEY:
                p = read_string(p, limit, &line->key, 1);
                break;
            case F_KEY2:
                p = read_string(p, limit, &line->key2, 1);
                break;
            case F_STREAM:
                if (IS_TRUE(p)) {
                    line->stream = 1;
                    p += 4;
                }
                else if (IS_FALSE(p)) {
                    line->stream = 0;
                    p += 5;
                }
                else {
                    return -1;
                }
                break;
            case F_IN:
            case F_OUT:
            case F_CACHE_READ:
            case F_CACHE_WRITE:
            case F_REASONING:
                p = read_opt_int(p, &line->tokens[field - F_IN], 1);
                break;
            case F_GPU:
                p = read_opt_float(p, &line->gpu, PRESENCE);
                break;
            case F_COST:
                p = read_opt_float(p, &line->cost, EXACT);
                break;
            case F_LATENCY:
                p = read_opt_float(p, &line->latency, BUCKET);
                break;
            case F_TTFT:
                p = read_opt_float(p, &line->ttft, BUCKET);
                break;
            case F_STATUS: {
                Span status = {0};
                p = read_string(p, limit, &status, 0);
                if (p == NULL) {
                    return -1;
                }
                if (status.n == 2 && memcmp(status.p, "ok", 2) == 0) {
                    line->status = 0;
                }
                else if (status.n == 5 && memcmp(status.p, "error", 5) == 0) {
                    line->status = 1;
                }
                else if (status.n == 9 && memcmp(status.p, "cancelled", 9) == 0) {
                    line->status = 2;
                }
                else {
                    return -1;
                }
                break;
            }
            case F_ATTEMPT:
                p = read_opt_int(p, &attempt, 0);
                line->attempt = attempt.v;
                break;
            default:
                p = skip_value(p, limit, 1);
            }
            if (p == NULL) {
                return -1;
            }
            p = skip_ws(p);
            if (*p == '}') {
                break;
            }
            if (*p != ',') {
                return -1;
            }
            p = skip_ws(p + 1);
        }
    }
    p = skip_ws(p + 1);
    if (*p != '\n' || !line->has_ts || !line->has_id) {
        return -1; /* more after the object, or a required field missing */
    }
    *next = p + 1;
    return 1;
}

/* YYYY-MM-DDTHH:MM:SS.mmmZ naming a real instant (what epoch() reads on its fast path). */
static int
strict_ts(const Span *ts)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (ts->n != 24) {
        return 0;
    }
    for (int i = 0; i < 24; i++) {
        char c = ts->p[i];
        if (shape[i] == 'd' ? !(c >= '0' && c <= '9') : c != shape[i]) {
            return 0;
        }
    }
#define D2(i) ((ts->p[i] - '0') * 10 + (ts->p[(i) + 1] - '0'))
    int year = D2(0) * 100 + D2(2), month = D2(5), day = D2(8);
    if (year < 1 || month < 1 || month > 12 || day < 1 || D2(11) > 23 || D2(14) > 59 || D2(17) > 59) {
        return 0;
    }
#undef D2
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= days[month - 1] + (month == 2 && leap);
}

static int32_t
bucket_of(double v)
{
    if (v <= 0.001) {
        return ZERO_BUCKET;
    }
    return (int32_t)floor(log(v) / LOG_GAMMA);
}

/* ---- the Scanner type ------------------------------------------------------------------------------------------- */

static void
release_block(Scanner *s)
{
    s->nstaged = 0;
    if (s->block.obj != NULL) {
        PyBuffer_Release(&s->block);
        s->block.obj = NULL;
    }
}

static PyObject *
Scanner_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Scanner *self = (Scanner *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->none_group = -1;
    }
    return (PyObject *)self;
}

static int
Scanner_init(Scanner *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"by", "dedupe", "head_max", NULL};
    int by;
    Py_ssize_t dedupe, head_max;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "inn", kwlist, &by, &dedupe, &head_max)) {
        return -1;
    }
    if (by < 0 || by >= BY_COUNT) {
        PyErr_SetString(PyExc_ValueError, "by: a grouping code from 0 to 7");
        return -1;
    }
    if (self->ngroups || self->nstaged || self->head != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a Scanner is initialised once");
        return -1;
    }
    if ((self->head = PyList_New(0)) == NULL) {
        return -1;
    }
    self->by = by;
    self->dedupe = dedupe;
    self->head_max = head_max;
    return 0;
}

static void
Scanner_dealloc(Scanner *self)
{
    for (Py_ssize_t g = 0; g < self->ngroups; g++) {
        PyMem_Free(self->groups[g].bytes);
        for (int k = 0; k < NSUMS; k++) {
            Py_XDECREF(self->groups[g].spill[k]);
        }
    }
    PyMem_Free(self->groups);
    PyMem_Free(self->slots);
    PyMem_Free(self->cells);
    PyMem_Free(self->staged);
    release_block(self);
    id_clear(&self->ids[0]);
    id_clear(&self->ids[1]);
    Py_XDECREF(self->head);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
stage(Scanner *s, const Line *line, const Span *key)
{
    if (s->nstaged == s->staged_cap) {
        Py_ssize_t cap = s->staged_cap ? s->staged_cap * 2 : 4096;
        Staged *staged = PyMem_Realloc(s->staged, (size_t)cap * sizeof(Staged));
        if (staged == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        s->staged = staged;
        s->staged_cap = cap;
    }
    Staged *r = &s->staged[s->nstaged];
    Py_ssize_t group = group_of(s, key->p, key->n);
    if (group < 0) {
        PyErr_NoMemory();
        return -1;
    }
    r->group = group;
    r->id = line->id.p;
    r->id_len = line->id.n;
    r->id_high = line->id.high;
    for (int k = 0; k < 5; k++) {
        r->tokens[k] = line->tokens[k].present ? line->tokens[k].v : 0;
    }
    r->error = line->status == 1;
    r->retry = line->attempt != 0;
    if (line->cost.present) {
        double pico = nearbyint(line->cost.v * 1e12); /* round half to even, as float.__round__ */
        if (!(pico > -9.2e18 && pico < 9.2e18)) {
            return 1; /* too big for int64: the Python way */
        }
        r->pico = (int64_t)pico;
        r->priced = 1;
    }
    else if (!line->tokens[0].present && !line->tokens[1].present && !line->gpu.present) {
        /* no usage: a refused request costs nothing; a failed or cancelled stream is unpriced (as the engine) */
        r->pico = 0;
        r->priced = line->status == 1 && !line->stream;
    }
    else {
        return 1; /* usage to price with the catalog: the Python way */
    }
    r->has_latency = (unsigned char)line->latency.present;
    r->latency_bucket = line->latency.present ? line->latency.bucket : 0;
    r->has_ttft = (unsigned char)line->ttft.present;
    r->ttft_bucket = line->ttft.present ? line->ttft.bucket : 0;
    s->nstaged++;
    return 0;
}

/* A str of a span read by read_string (valid UTF-8: checked there). */
static PyObject *
new_str(const Span *span)
{
    if (span->high) {
        return PyUnicode_DecodeUTF8(span->p, span->n, "strict");
    }
    PyObject *s = PyUnicode_New(span->n, 127);
    if (s != NULL) {
        memcpy(PyUnicode_1BYTE_DATA(s), span->p, (size_t)span->n);
    }
    return s;
}

PyDoc_STRVAR(scan_doc,
             "scan(block, check_ts)\n--\n\n"
             "Parse a block of complete lines and stage its records (until the next scan). Returns (records, "
             "first_ts, last_ts): how many, and the smallest and largest timestamps when check_ts is true and every "
             "timestamp is a valid YYYY-MM-DDTHH:MM:SS.mmmZ (else None, None); or None when the block must be read "
             "the Python way.");

static PyObject *
Scanner_scan(Scanner *self, PyObject *args)
{
    if (self->head == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner.__init__ was not called");
        return NULL;
    }
    Py_buffer view;
    int check_ts;
    if (!PyArg_ParseTuple(args, "y*p", &view, &check_ts)) {
        return NULL;
    }
    release_block(self);
    self->block = view; /* held until the next scan: the staged ids point into it */
    PyObject *result = NULL;
    const char *p = view.buf;
    const char *end = p + view.len;
    if (view.len && end[-1] != '\n') {
        Py_INCREF(Py_None);
        result = Py_None; /* not a block of complete lines */
        goto done;
    }
    int ts_ok = check_ts;
    Span first = {0}, last = {0};
    char composite[COMPOSITE_MAX];
    Line line;
    while (p < end) {
        int got = parse_line(p, end, self->by, self->known, &line, &p);
        if (got < 0) {
            Py_INCREF(Py_None);
            result = Py_None;
            goto done;
        }
        if (got == 0) {
            continue;
        }
        Span key = line.key;
        if ((self->by == BY_MODEL || self->by == BY_DAY_MODEL) && (key.p == NULL || key.n == 0)) {
            key = line.key2; /* response_model or request_model */
        }
        if (self->by == BY_DAY || self->by == BY_DAY_MODEL) {
            Py_ssize_t day = line.ts.n < 10 ? line.ts.n : 10;
            if (line.ts.high || day + 1 + (key.p ? key.n : 0) > COMPOSITE_MAX) {
                Py_INCREF(Py_None);
                result = Py_None; /* ts[:10] counts characters, not bytes; or an outsized model name */
                goto done;
            }
            if (self->by == BY_DAY || key.p == NULL) {
                key = line.ts;
                key.n = day;
            }
            else {
                memcpy(composite, line.ts.p, (size_t)day);
                composite[day] = '\n';
                memcpy(composite + day + 1, key.p, (size_t)key.n);
                key.n += day + 1;
                key.p = composite;
            }
        }
        int staged = stage(self, &line, &key);
        if (staged < 0) {
            goto done;
        }
        if (staged > 0) {
            Py_INCREF(Py_None);
            result = Py_None;
            goto done;
        }
        if (ts_ok) {
            if (!strict_ts(&line.ts)) {
                ts_ok = 0;
            }
            else {
                if (first.p == NULL || memcmp(line.ts.p, first.p, 24) < 0) {
                    first = line.ts;
                }
                if (last.p == NULL || memcmp(line.ts.p, last.p, 24) > 0) {
                    last = line.ts;
                }
            }
        }
    }
    if (ts_ok && first.p != NULL) {
        result = Py_BuildValue("(ns#s#)", self->nstaged, first.p, first.n, last.p, last.n);
    }
    else {
        result = Py_BuildValue("(nOO)", self->nstaged, Py_None, Py_None);
    }
done:
    if (result == NULL || result == Py_None) {
        release_block(self); /* nothing to commit */
    }
    return result;
}

PyDoc_STRVAR(commit_doc,
             "commit(add)\n--\n\n"
             "Take the records of the last scanned block in order, dropping those whose id was seen before (the "
             "follower's rule); add the others to the totals when add is true (false: records outside the period, "
             "counted as read). Returns (fresh, duplicates).");

static PyObject *
Scanner_commit(Scanner *self, PyObject *arg)
{
    if (self->head == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner.__init__ was not called");
        return NULL;
    }
    int add = PyObject_IsTrue(arg);
    if (add < 0) {
        return NULL;
    }
    Py_ssize_t fresh = 0;
    int failed = 0;
    for (Py_ssize_t k = 0; k < self->nstaged && !failed; k++) {
        const Staged *r = &self->staged[k];
        int is_new = id_fresh(self, r->id, r->id_len);
        if (is_new <= 0) {
            failed = is_new < 0;
            continue;
        }
        fresh++;
        if (PyList_GET_SIZE(self->head) < self->head_max) {
            Span span = {r->id, r->id_len, r->id_high};
            PyObject *id = new_str(&span);
            failed = id == NULL || keep_head(self, id) < 0;
            Py_XDECREF(id);
        }
        if (!add) {
            continue;
        }
        Group *g = &self->groups[r->group];
        failed |= add_sum(g, S_CALLS, 1) || add_sum(g, S_ERRORS, r->error) || add_sum(g, S_RETRIES, r->retry);
        for (int t = 0; t < 5; t++) {
            failed |= add_sum(g, S_IN + t, r->tokens[t]);
        }
        failed |= r->priced ? add_sum(g, S_PICO, r->pico) : add_sum(g, S_UNPRICED, 1);
        if (r->has_latency) {
            failed |= add_bucket(self, r->group, 0, r->latency_bucket);
        }
        if (r->has_ttft) {
            failed |= add_bucket(self, r->group, 1, r->ttft_bucket);
        }
    }
    Py_ssize_t staged = self->nstaged;
    release_block(self);
    if (failed) {
        self->failed = 1;
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        return NULL;
    }
    id_rotate(self);
    return Py_BuildValue("(nn)", fresh, staged - fresh);
}

PyDoc_STRVAR(fresh_doc,
             "fresh(records)\n--\n\n"
             "The records whose id was not seen before, in order, and how many were dropped: the follower's rule, "
             "for a block read the Python way, over the same ids as commit().");

static PyObject *
Scanner_fresh(Scanner *self, PyObject *records)
{
    if (self->head == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner.__init__ was not called");
        return NULL;
    }
    static PyObject *id_name = NULL;
    if (id_name == NULL && (id_name = PyUnicode_InternFromString("id")) == NULL) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(records, "records: a list");
    PyObject *kept = seq == NULL ? NULL : PyList_New(0);
    if (kept == NULL) {
        Py_XDECREF(seq);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *record = PySequence_Fast_GET_ITEM(seq, k);
        PyObject *id = PyObject_GetAttr(record, id_name);
        PyObject *keep = NULL;
        Py_ssize_t size;
        const char *bytes = id == NULL ? NULL : id_bytes(id, &size, &keep);
        int is_new = bytes == NULL ? -1 : id_fresh(self, bytes, size);
        if (is_new > 0 && (PyList_Append(kept, record) < 0 || keep_head(self, id) < 0)) {
            is_new = -1;
        }
        Py_XDECREF(keep);
        Py_XDECREF(id);
        if (is_new < 0) {
            if (!PyErr_Occurred()) {
                PyErr_NoMemory();
            }
            Py_DECREF(kept);
            Py_DECREF(seq);
            return NULL;
        }
    }
    Py_DECREF(seq);
    id_rotate(self);
    Py_ssize_t dropped = n - PyList_GET_SIZE(kept);
    return Py_BuildValue("(Nn)", kept, dropped);
}

PyDoc_STRVAR(knows_any_doc, "knows_any(ids)\n--\n\nWhether any of the ids (str) is among those remembered.");

static PyObject *
Scanner_knows_any(Scanner *self, PyObject *ids)
{
    PyObject *iter = PyObject_GetIter(ids);
    if (iter == NULL) {
        return NULL;
    }
    PyObject *id;
    int found = 0;
    while (!found && (id = PyIter_Next(iter)) != NULL) {
        PyObject *keep;
        Py_ssize_t n;
        const char *p = id_bytes(id, &n, &keep);
        if (p != NULL) {
            uint64_t hash = hash_bytes(p, n);
            found = id_known(&self->ids[0], hash, p, n) || id_known(&self->ids[1], hash, p, n);
        }
        Py_XDECREF(keep);
        Py_DECREF(id);
        if (p == NULL) {
            Py_DECREF(iter);
            return NULL;
        }
    }
    Py_DECREF(iter);
    if (PyErr_Occurred()) {
        return NULL;
    }
    return PyBool_FromLong(found);
}

PyDoc_STRVAR(remembered_doc, "remembered()\n--\n\nEvery id remembered (both generations), as str.");

static PyObject *
Scanner_remembered(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *out = PyList_New(0);
    for (int g = 0; out != NULL && g < 2; g++) {
        const IdGen *gen = &self->ids[g];
        for (Py_ssize_t k = 0; k < gen->count; k++) {
            const IdEntry *e = &gen->entries[k];
            PyObject *id = PyUnicode_DecodeUTF8(e->bytes, e->n, "surrogatepass");
            if (id == NULL || PyList_Append(out, id) < 0) {
                Py_XDECREF(id);
                Py_CLEAR(out);
                break;
            }
            Py_DECREF(id);
        }
    }
    return out;
}

PyDoc_STRVAR(head_doc, "head()\n--\n\nThe first fresh ids (up to head_max), in order.");

static PyObject *
Scanner_head(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    if (self->head == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scanner.__init__ was not called");
        return NULL;
    }
    return PyList_GetSlice(self->head, 0, PyList_GET_SIZE(self->head));
}

static PyObject *
sum_of(const Group *g, int which)
{
    PyObject *v = PyLong_FromLongLong(g->sums[which]);
    if (v == NULL || g->spill[which] == NULL) {
        return v;
    }
    PyObject *total = PyNumber_Add(g->spill[which], v);
    Py_DECREF(v);
    return total;
}

PyDoc_STRVAR(rows_doc,
             "rows()\n--\n\n"
             "The totals of every group with records: a list of (key, calls, errors, retries, input_tokens, "
             "output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, pico, unpriced_calls, "
             "latency_counts, ttft_counts); the counts map sketch buckets to how many values fell in them.");

static PyObject *
Scanner_rows(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    if (self->failed) {
        PyErr_SetString(PyExc_MemoryError, "a commit ran out of memory: the totals are incomplete");
        return NULL;
    }
    PyObject *rows = PyList_New(0);
    PyObject **sketches = PyMem_Calloc((size_t)(2 * self->ngroups + 1), sizeof(PyObject *));
    if (rows == NULL || sketches == NULL) {
        goto fail;
    }
    for (Py_ssize_t g = 0; g < 2 * self->ngroups; g++) {
        if ((sketches[g] = PyDict_New()) == NULL) {
            goto fail;
        }
    }
    for (Py_ssize_t k = 0; k < self->cells_cap; k++) {
        const Cell *c = &self->cells[k];
        if (!c->key) {
            continue;
        }
        Py_ssize_t group = (Py_ssize_t)(c->key >> 33) - 1;
        int sketch = (int)((c->key >> 32) & 1);
        PyObject *bucket = PyLong_FromLong((long)(int32_t)(uint32_t)c->key);
        PyObject *count = PyLong_FromLongLong(c->count);
        int set = bucket && count ? PyDict_SetItem(sketches[2 * group + sketch], bucket, count) : -1;
        Py_XDECREF(bucket);
        Py_XDECREF(count);
        if (set < 0) {
            goto fail;
        }
    }
    for (Py_ssize_t g = 0; g < self->ngroups; g++) {
        const Group *group = &self->groups[g];
        if (group->sums[S_CALLS] == 0 && group->spill[S_CALLS] == NULL) {
            continue; /* met only in blocks that were not committed */
        }
        PyObject *row = PyTuple_New(3 + NSUMS);
        if (row == NULL) {
            goto fail;
        }
        PyObject *key = group->bytes == NULL ? (Py_INCREF(Py_None), Py_None)
                                             : PyUnicode_DecodeUTF8(group->bytes, group->n, "strict");
        PyTuple_SET_ITEM(row, 0, key);
        int bad = key == NULL;
        for (int k = 0; k < NSUMS; k++) {
            PyObject *v = sum_of(group, k);
            bad |= v == NULL;
            PyTuple_SET_ITEM(row, 1 + k, v);
        }
        Py_INCREF(sketches[2 * g]);
        PyTuple_SET_ITEM(row, 1 + NSUMS, sketches[2 * g]);
        Py_INCREF(sketches[2 * g + 1]);
        PyTuple_SET_ITEM(row, 2 + NSUMS, sketches[2 * g + 1]);
        if (bad || PyList_Append(rows, row) < 0) {
            Py_DECREF(row);
            goto fail;
        }
        Py_DECREF(row);
    }
    for (Py_ssize_t g = 0; g < 2 * self->ngroups; g++) {
        Py_DECREF(sketches[g]);
    }
    PyMem_Free(sketches);
    return rows;
fail:
    if (sketches != NULL) {
        for (Py_ssize_t g = 0; g < 2 * self->ngroups; g++) {
            Py_XDECREF(sketches[g]);
        }
        PyMem_Free(sketches);
    }
    Py_XDECREF(rows);
    if (!PyErr_Occurred()) {
        PyErr_NoMemory();
    }
    return NULL;
}

static PyMethodDef Scanner_methods[] = {
    {"scan", (PyCFunction)Scanner_scan, METH_VARARGS, scan_doc},
    {"commit", (PyCFunction)Scanner_commit, METH_O, commit_doc},
    {"fresh", (PyCFunction)Scanner_fresh, METH_O, fresh_doc},
    {"knows_any", (PyCFunction)Scanner_knows_any, METH_O, knows_any_doc},
    {"remembered", (PyCFunction)Scanner_remembered, METH_NOARGS, remembered_doc},
    {"head", (PyCFunction)Scanner_head, METH_NOARGS, head_doc},
    {"rows", (PyCFunction)Scanner_rows, METH_NOARGS, rows_doc},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "llmcost.engine._cscan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("Scanner(by, dedupe, head_max): group totals of wire-format lines (by: 0 agent, 1 model, "
                        "2 provider, 3 user, 4 session, 5 workflow, 6 day, 7 day and model), the follower's duplicate "
                        "check (dedupe ids per generation) and the first head_max fresh ids."),
    .tp_new = Scanner_new,
    .tp_init = (initproc)Scanner_init,
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_methods = Scanner_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "llmcost.engine._cscan",
    .m_doc = "Group totals of wire-format lines, parsed in C (the fast path of llmcost report).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__cscan(void)
{
    LOG_GAMMA = log(1.02);
    PyObject *os = PyImport_ImportModule("os");
    PyObject *random = os == NULL ? NULL : PyObject_CallMethod(os, "urandom", "i", 8);
    Py_XDECREF(os);
    if (random == NULL) {
        return NULL;
    }
    memcpy(&SEED, PyBytes_AS_STRING(random), 8);
    Py_DECREF(random);
    for (int c = 0; c < 256; c++) {
        STOP[c] = c == '"' || c == '\\' || c < 0x20;
    }
    if (PyType_Ready(&ScannerType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
