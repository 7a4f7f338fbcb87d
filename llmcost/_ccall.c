/* The recorder's hot path in C: a recorded call from ``trace()`` to its line in the log.
 *
 * Two types back the Python classes of the same role: ``CallCore`` is the base of ``llmcost.Call`` (its fields, the
 * with-block, ``set_usage`` and the write of the finished call) and ``Usage`` the base of ``llmcost.Extracted``.
 * Everything else a call does stays in Python (``_call.py``), and so does every case this file does not take.
 *
 * Writing a finished call: ``emit`` first tries the fast path, which builds the wire-format line straight into a
 * buffer and appends it with one ``write()``. It takes a call only in the common case: a ``Tracker`` (not a
 * subclass) with no ledger, cost hook or GPU count, a call with no captured content, a
 * usage priced by a memoised integer rate plan (or no usage at all), values of the plain types. Any other call, and
 * any surprise on the way, returns "not taken" before anything is written, and the call goes to the Python path,
 * ``Tracker._emit``, which knows every rule. The fast path writes the very bytes the Python path writes (the same
 * msgspec number and string forms; tests compare both ways field by field over many calls).
 *
 * The write: when the ``FileWriter`` has the day's file open in this process, with no size cap, and its lock is free,
 * the line is written here with the GIL held from that check to the end of the ``write()``, so no Python thread can
 * take the lock (and close or switch the file) in between. The check is kept: FileWriter calls ``forget`` (holding
 * the GIL) before it closes or replaces its descriptor, in a forked child and when its cap changes, and the next
 * line checks again. Otherwise the line goes to ``FileWriter.write_line``, as the Python path does. A local append
 * takes a microsecond or two; holding the GIL that long costs other threads less than releasing and taking it back.
 * In the same way the tracker's state (writer, stats, rate plans, no sink or ledger) is read once and kept until
 * an attribute of the tracker is set (``Tracker.__setattr__`` calls ``forget_tracker``).
 *
 * Counters are kept allocation-free: ``Stats`` is backed by C integers (``StatsCore``), and lines written straight
 * to a file are added to the writer's count when it is forgotten (``FileWriter.written`` adds ``pending``).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#ifndef _WIN32
#include <unistd.h>
#endif

#if defined(__linux__)
#define HAVE_LINUX_CLOCKS 1 /* time.time is CLOCK_REALTIME and time.perf_counter CLOCK_MONOTONIC on Linux */
#endif

/* ---------------------------------------------------------------------------------------------------------------- */
/* Module state (one interpreter: the module declares no multi-phase init).                                       */

static PyObject *span_var;          /* the ContextVar of the innermost open call */
static PyTypeObject *extracted_cls; /* llmcost.Extracted, built by set_usage */
static PyObject *tracker_cls;       /* llmcost.Tracker: the fast path takes exactly this class */
static PyObject *file_writer_cls;   /* llmcost.FileWriter: written here; exactly this class */
static PyObject *writer_globals;    /* llmcost._writer's globals, for its fork counter */
static PyObject *to_decimal;        /* cost_usd given to set_usage -> Decimal */
static PyObject *py_add_to_scopes;  /* llmcost._emit.add_to_scopes */
static PyObject *py_time, *py_perf, *py_monotonic, *py_urandom;
static int fast_enabled = 1;

/* hasattr(obj, name): 1, 0, or -1 with an error that is not an AttributeError */
static int
has_attr(PyObject *obj, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v != NULL) {
        Py_DECREF(v);
        return 1;
    }
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}
/* The FileWriter last written to directly, its descriptor and day: until FileWriter calls forget() (before it closes
 * or replaces the descriptor, in a forked child, when max_bytes changes), a line of that day is written to it with no
 * other check. */
static PyObject *direct_writer; /* borrowed: direct_ref, a weak reference, forgets it when the writer goes */
static PyObject *direct_ref;
static PyObject *forget_dead; /* the callback of both weak references (tracker and writer) */
static long direct_fd = -1;
static Py_ssize_t direct_written; /* lines written to it since it was taken: added to its _written when forgotten */
static char direct_day[10];
static PyObject *A_budgets, *A_defaults, *K_model, *K_provider;
static PyObject *call_defaults; /* what trace() sets in attrs when given only a model and a provider */
static PyObject *one;

static uint64_t id_base;        /* a random 40-bit prefix << 24 */
static uint32_t id_count;       /* the 24-bit counter under it */
static char trace_prefix[16];   /* 64 random bits, hex: a root call's trace id is this and its span id */

static PyObject *S_ok, *S_none, *S_error, *S_provider, *S_estimated, *S_hint, *S_vllm;
static PyObject *A_name, *A_hook_errors, *A_written_own, *A_set_error, *A_emit, *A_writer, *A_stats, *A_calls, *A_sinks, *A_ledger, *A_call_cost, *A_gpus,
    *A_plans, *A_plans_until, *A_fd, *A_day, *A_fork, *A_forks, *A_max_bytes, *A_lock, *A_locked, *A_written,
    *A_write_line, *A_drop, *A_count, *A_pico, *A_fee, *A_tier_min, *A_ref, *A_trace_id, *A_id, *A_internal;
/* The keys of a call's attrs the line reads. */
static PyObject *K_source, *K_operation, *K_server, *K_stream, *K_attempt, *K_fallback, *K_agent, *K_session,
    *K_user, *K_workflow, *K_tags, *K_metadata, *K_phash, *K_gpus;

/* ---------------------------------------------------------------------------------------------------------------- */
/* Clocks, ids, timestamps                                                                                            */

static const char HEX[] = "0123456789abcdef";

#ifdef HAVE_LINUX_CLOCKS
/* Seconds as CPython's time functions return them (_PyTime_AsSecondsDouble): whole seconds exactly, else ns / 1e9. */
static double
clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (ns % 1000000000 == 0) {
        return (double)(ns / 1000000000);
    }
    return (double)ns / 1e9;
}
#endif

#ifndef HAVE_LINUX_CLOCKS
/* time.time(), time.perf_counter() and time.monotonic(); -1 with an exception set if the Python clock failed. */
static double
call_clock(PyObject *fn)
{
    PyObject *r = PyObject_CallNoArgs(fn);
    if (r == NULL) {
        return -1.0;
    }
    double v = PyFloat_AsDouble(r);
    Py_DECREF(r);
    return v;
}
#endif

static double
now_wall(void)
{
#ifdef HAVE_LINUX_CLOCKS
    return clock_seconds(CLOCK_REALTIME);
#else
    return call_clock(py_time);
#endif
}

static double
now_perf(void)
{
#ifdef HAVE_LINUX_CLOCKS
    return clock_seconds(CLOCK_MONOTONIC);
#else
    return call_clock(py_perf);
#endif
}

#ifndef HAVE_LINUX_CLOCKS
static double
now_monotonic(void)
{
#ifdef HAVE_LINUX_CLOCKS
    return clock_seconds(CLOCK_MONOTONIC);
#else
    return call_clock(py_monotonic);
#endif
}
#endif

static int
reseed(void)
{
    PyObject *raw = PyObject_CallFunction(py_urandom, "i", 13);
    if (raw == NULL) {
        return -1;
    }
    if (!PyBytes_Check(raw) || PyBytes_GET_SIZE(raw) != 13) {
        Py_DECREF(raw);
        PyErr_SetString(PyExc_RuntimeError, "os.urandom returned an unexpected value");
        return -1;
    }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(raw);
    uint64_t prefix = 0;
    for (int i = 0; i < 5; i++) {
        prefix = prefix << 8 | b[i];
    }
    id_base = prefix << 24;
    id_count = 0;
    for (int i = 0; i < 8; i++) {
        trace_prefix[2 * i] = HEX[b[5 + i] >> 4];
        trace_prefix[2 * i + 1] = HEX[b[5 + i] & 15];
    }
    Py_DECREF(raw);
    return 0;
}

static PyObject *
ascii_str(const char *s, Py_ssize_t n)
{
    PyObject *r = PyUnicode_New(n, 127);
    if (r != NULL) {
        memcpy(PyUnicode_1BYTE_DATA(r), s, (size_t)n);
    }
    return r;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes) for epoch seconds >= 0, milliseconds truncated, as _util.iso_ms. */
static int64_t last_second = -1;
static char last_text[19];

static int
iso_ms(double epoch, char out[24])
{
    if (!(epoch >= 0.0 && epoch < 253402300800.0)) { /* up to the year 9999 */
        return -1;
    }
    int64_t sec = (int64_t)epoch;
    if (sec != last_second) {
        time_t t = (time_t)sec;
        struct tm tm;
#ifdef _WIN32
        if (gmtime_s(&tm, &t) != 0) {
            return -1;
        }
#else
        if (gmtime_r(&t, &tm) == NULL) {
            return -1;
        }
#endif
        char buf[32];
        if (strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
            return -1;
        }
        memcpy(last_text, buf, 19);
        last_second = sec;
    }
    int ms = (int)((epoch - (double)sec) * 1000);
    memcpy(out, last_text, 19);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Usage: the base of llmcost.Extracted                                                                            */

typedef struct {
    PyObject_HEAD
    PyObject *input_tokens, *output_tokens, *cache_read, *cache_write, *cache_write_1h, *reasoning, *gpu_seconds,
        *response_model, *response_id, *source;
} Usage;

#define USAGE_FIELDS 10

static PyTypeObject UsageType;

/* llmcost.Extracted once _usage.py has handed it over (setup_usage), else the bare Usage type. */
static PyTypeObject *
extracted_type(void)
{
    return extracted_cls != NULL ? extracted_cls : &UsageType;
}

static PyObject **
usage_slots(Usage *u)
{
    return &u->input_tokens;
}

static PyObject *
Usage_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    if ((args != NULL && PyTuple_GET_SIZE(args) != 0) || (kwds != NULL && PyDict_GET_SIZE(kwds) != 0)) {
        PyErr_Format(PyExc_TypeError, "%.100s() takes no arguments", type->tp_name);
        return NULL;
    }
    Usage *u = (Usage *)type->tp_alloc(type, 0);
    if (u == NULL) {
        return NULL;
    }
    PyObject **slot = usage_slots(u);
    for (int i = 0; i < USAGE_FIELDS - 1; i++) {
        slot[i] = Py_NewRef(Py_None);
    }
    u->source = Py_NewRef(S_none);
    return (PyObject *)u;
}

static int
Usage_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    return 0; /* Usage_new took the arguments in hand */
}

static void
Usage_dealloc(Usage *u)
{
    PyObject **slot = usage_slots(u);
    for (int i = 0; i < USAGE_FIELDS; i++) {
        Py_CLEAR(slot[i]);
    }
    Py_TYPE(u)->tp_free((PyObject *)u);
}

static PyMemberDef Usage_members[] = {
    {"input_tokens", T_OBJECT, offsetof(Usage, input_tokens), 0, NULL},
    {"output_tokens", T_OBJECT, offsetof(Usage, output_tokens), 0, NULL},
    {"cache_read", T_OBJECT, offsetof(Usage, cache_read), 0, NULL},
    {"cache_write", T_OBJECT, offsetof(Usage, cache_write), 0, "all cache writes (5 minute and 1 hour)"},
    {"cache_write_1h", T_OBJECT, offsetof(Usage, cache_write_1h), 0, "the 1 hour subset of cache_write"},
    {"reasoning", T_OBJECT, offsetof(Usage, reasoning), 0, NULL},
    {"gpu_seconds", T_OBJECT, offsetof(Usage, gpu_seconds), 0, NULL},
    {"response_model", T_OBJECT, offsetof(Usage, response_model), 0, NULL},
    {"response_id", T_OBJECT, offsetof(Usage, response_id), 0, NULL},
    {"source", T_OBJECT, offsetof(Usage, source), 0, "provider, partial, estimated or none"},
    {NULL},
};

static PyTypeObject UsageType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "llmcost._ccall.Usage",
    .tp_basicsize = sizeof(Usage),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Normalised usage of one call (the fields of llmcost.Extracted).",
    .tp_new = Usage_new,
    .tp_init = Usage_init,
    .tp_dealloc = (destructor)Usage_dealloc,
    .tp_members = Usage_members,
};

/* ---------------------------------------------------------------------------------------------------------------- */
/* StatsCore: the counters of llmcost.Stats, as C integers (counting a call allocates nothing)                      */

typedef struct {
    PyObject_HEAD
    Py_ssize_t calls, bad_metadata, budget_blocked, budget_warned, export_errors, hook_errors, internal_errors,
        odd_chunk, odd_response, pricing_errors, unknown_models;
} StatsCore;

#define STAT(name) {#name, T_PYSSIZET, offsetof(StatsCore, name), 0, NULL}
static PyMemberDef StatsCore_members[] = {
    STAT(calls), STAT(bad_metadata), STAT(budget_blocked), STAT(budget_warned), STAT(export_errors),
    STAT(hook_errors), STAT(internal_errors), STAT(odd_chunk), STAT(odd_response), STAT(pricing_errors),
    STAT(unknown_models), {NULL},
};
#undef STAT

static PyTypeObject StatsCoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "llmcost._ccall.StatsCore",
    .tp_basicsize = sizeof(StatsCore),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The counters of llmcost.Stats.",
    .tp_new = PyType_GenericNew,
    .tp_members = StatsCore_members,
};

/* ---------------------------------------------------------------------------------------------------------------- */
/* CallCore: the base of llmcost.Call                                                                              */

static PyTypeObject CallCoreType;

typedef struct {
    PyObject_HEAD
    /* the object fields, in the order tp_traverse and tp_clear walk them; NULL where noted */
    PyObject *tracker, *id, *trace_id, *parent_id, *request_model, *provider, *hint, *attrs, *defaults, *scopes,
        *usage, *response_model, *response_id, *provider_cost, *ttft, *status, *error, *content, *token;
    /* counts given to set_usage, kept here until usage is read (usage is NULL meanwhile): input, output, cache
     * read, cache write, 1 hour cache write, reasoning, GPU seconds */
    PyObject *uv[7];
    char u_inline; /* 0: usage holds the usage; 1: uv, from the provider; 2: uv, estimated */
    /* id NULL: the hex of span, made on first read; trace_id NULL: trace_hex and the hex of trace_span */
    uint64_t span, trace_span;
    char trace_hex[16];
    /* attrs NULL: not made yet; they are defaults (the tracker's) with the values trace() sets (call_defaults) */
    double wall0, t0;
    char done, streaming;
} CallCore;

#define CALL_FIELDS 26

/* What trace() sets in a call's attrs: the values of call_defaults, kept for calls whose attrs are not made. */
static PyObject *cd_source, *cd_operation, *cd_server, *cd_stream, *cd_attempt, *cd_fallback, *cd_gpus;

static PyObject **
call_slots(CallCore *c)
{
    return &c->tracker;
}

static PyObject *
CallCore_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    CallCore *c = (CallCore *)type->tp_alloc(type, 0);
    if (c == NULL) {
        return NULL;
    }
    PyObject **slot = call_slots(c);
    for (int i = 0; i < CALL_FIELDS; i++) {
        slot[i] = Py_NewRef(Py_None);
    }
    Py_SETREF(c->status, Py_NewRef(S_ok));
    Py_SETREF(c->scopes, PyTuple_New(0));
    if (c->scopes == NULL) {
        Py_DECREF(c);
        return NULL;
    }
    return (PyObject *)c;
}

static void
hex16(uint64_t v, char out[16])
{
    for (int i = 15; i >= 0; i--) {
        out[i] = HEX[v & 15];
        v >>= 4;
    }
}

static PyObject *
call_id(CallCore *c)
{
    if (c->id == NULL) {
        char text[16];
        hex16(c->span, text);
        c->id = ascii_str(text, 16);
    }
    return c->id;
}

static PyObject *
call_trace_id(CallCore *c)
{
    if (c->trace_id == NULL) {
        char text[32];
        memcpy(text, c->trace_hex, 16);
        hex16(c->trace_span, text + 16);
        c->trace_id = ascii_str(text, 32);
    }
    return c->trace_id;
}

/* The attrs of a call made by trace() in C: the tracker's defaults with the values trace() sets. */
static PyObject *
call_attrs(CallCore *c)
{
    if (c->attrs == NULL) {
        PyObject *d = PyDict_Copy(c->defaults);
        if (d == NULL || PyDict_Update(d, call_defaults) < 0) {
            Py_XDECREF(d);
            return NULL;
        }
        c->attrs = d;
        Py_CLEAR(c->defaults);
    }
    return c->attrs;
}

/* The fields of a new call: ids (the parent is the innermost open call), hint, clocks. ``attrs`` is the call's dict,
 * or NULL with ``defaults``: the tracker's defaults, which trace() leaves to be copied when first read. */
static int
call_setup(CallCore *self, PyObject *tracker, PyObject *model, PyObject *provider, PyObject *attrs, PyObject *defaults,
           PyObject *scopes)
{
    if (attrs != NULL && !PyDict_Check(attrs)) {
        PyErr_Format(PyExc_TypeError, "Call attrs must be a dict, not %.100s", Py_TYPE(attrs)->tp_name);
        return -1;
    }
    PyObject *parent;
    if (PyContextVar_Get(span_var, Py_None, &parent) < 0) {
        return -1;
    }
    if (++id_count > 0xFFFFFF) {
        if (reseed() < 0) {
            Py_DECREF(parent);
            return -1;
        }
        id_count = 1;
    }
    uint64_t span = id_base | id_count, trace_span = span;
    char trace_hex[16];
    PyObject *trace_id = NULL, *parent_id;
    memcpy(trace_hex, trace_prefix, 16);
    if (parent == Py_None) {
        parent_id = Py_NewRef(Py_None);
    }
    else if (PyObject_TypeCheck(parent, &CallCoreType)) {
        CallCore *p = (CallCore *)parent;
        if (p->trace_id == NULL) {
            memcpy(trace_hex, p->trace_hex, 16);
            trace_span = p->trace_span;
        }
        else {
            trace_id = Py_NewRef(p->trace_id);
        }
        parent_id = Py_XNewRef(call_id(p));
    }
    else {
        trace_id = PyObject_GetAttr(parent, A_trace_id);
        parent_id = trace_id == NULL ? NULL : PyObject_GetAttr(parent, A_id);
    }
    Py_DECREF(parent);
    if (parent_id == NULL) {
        Py_XDECREF(trace_id);
        return -1;
    }
    PyObject *hint = NULL;
    PyObject *given = attrs == NULL ? NULL : PyDict_GetItemWithError(attrs, S_hint);
    if (given != NULL) {
        Py_INCREF(given);
        if (PyDict_DelItem(attrs, S_hint) == 0) {
            int truth = PyObject_IsTrue(given);
            hint = truth < 0 ? NULL : Py_NewRef(truth ? given : provider);
        }
        Py_DECREF(given);
    }
    else if (!PyErr_Occurred()) {
        hint = Py_NewRef(provider);
    }
    if (hint == NULL) {
        Py_XDECREF(trace_id);
        Py_DECREF(parent_id);
        return -1;
    }
    Py_SETREF(self->tracker, Py_NewRef(tracker));
    Py_CLEAR(self->id);
    self->span = span;
    Py_XSETREF(self->trace_id, trace_id);
    self->trace_span = trace_span;
    memcpy(self->trace_hex, trace_hex, 16);
    Py_SETREF(self->parent_id, parent_id);
    Py_SETREF(self->request_model, Py_NewRef(model));
    Py_SETREF(self->provider, Py_NewRef(provider));
    Py_SETREF(self->hint, hint);
    Py_XSETREF(self->attrs, Py_XNewRef(attrs));
    Py_XSETREF(self->defaults, attrs == NULL ? Py_NewRef(defaults) : NULL);
    Py_SETREF(self->scopes, Py_NewRef(scopes));
    self->wall0 = now_wall();
    self->t0 = now_perf();
    return PyErr_Occurred() ? -1 : 0;
}

/* Call(tracker, model, provider, attrs, scopes) */
static int
CallCore_init(CallCore *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"tracker", "model", "provider", "attrs", "scopes", NULL};
    PyObject *tracker, *model, *provider, *attrs, *scopes;
    if (kwds == NULL && PyTuple_GET_SIZE(args) == 5) {
        tracker = PyTuple_GET_ITEM(args, 0);
        model = PyTuple_GET_ITEM(args, 1);
        provider = PyTuple_GET_ITEM(args, 2);
        attrs = PyTuple_GET_ITEM(args, 3);
        scopes = PyTuple_GET_ITEM(args, 4);
    }
    else if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOO:Call", names, &tracker, &model, &provider, &attrs,
                                          &scopes)) {
        return -1;
    }
    return call_setup(self, tracker, model, provider, attrs, NULL, scopes);
}

static int
CallCore_traverse(CallCore *self, visitproc visit, void *arg)
{
    PyObject **slot = call_slots(self);
    for (int i = 0; i < CALL_FIELDS; i++) {
        Py_VISIT(slot[i]);
    }
    return 0;
}

static int
CallCore_clear(CallCore *self)
{
    PyObject **slot = call_slots(self);
    for (int i = 0; i < CALL_FIELDS; i++) {
        Py_CLEAR(slot[i]);
    }
    return 0;
}

static void
CallCore_dealloc(CallCore *self)
{
    PyObject_GC_UnTrack(self);
    CallCore_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* set_usage                                                                                                         */

enum { U_IN, U_OUT, U_CACHE_READ, U_CACHE_WRITE, U_CACHE_1H, U_REASONING, U_GPU, U_MODEL, U_COST, U_ESTIMATED, U_N };
static const char *const U_NAMES[U_N] = {
    "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens",
    "cache_creation_1h_input_tokens", "reasoning_output_tokens", "gpu_seconds", "response_model", "cost_usd",
    "estimated",
};
static PyObject *U_KEYS[U_N];

static PyObject *
CallCore_set_usage(CallCore *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *v[U_N] = {NULL};
    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError, "set_usage() takes from 1 to 3 positional arguments but %zd were given",
                     nargs + 1);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        v[i] = args[i];
    }
    Py_ssize_t nk = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nk; k++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, k);
        int found = -1;
        for (int j = 0; j < U_N && found < 0; j++) {
            if (name == U_KEYS[j]) {
                found = j;
            }
        }
        for (int j = 0; j < U_N && found < 0; j++) {
            int eq = PyUnicode_Compare(name, U_KEYS[j]);
            if (eq == -1 && PyErr_Occurred()) {
                return NULL;
            }
            if (eq == 0) {
                found = j;
            }
        }
        if (found < 0) {
            PyErr_Format(PyExc_TypeError, "set_usage() got an unexpected keyword argument '%S'", name);
            return NULL;
        }
        if (v[found] != NULL) {
            PyErr_Format(PyExc_TypeError, "set_usage() got multiple values for argument '%S'", name);
            return NULL;
        }
        v[found] = args[nargs + k];
    }
    int estimated = 0;
    if (v[U_ESTIMATED] != NULL && (estimated = PyObject_IsTrue(v[U_ESTIMATED])) < 0) {
        return NULL;
    }
    PyObject *cost = NULL;
    if (v[U_COST] != NULL && v[U_COST] != Py_None) {
        if (to_decimal == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "llmcost._ccall.setup() was not called");
            return NULL;
        }
        cost = PyObject_CallOneArg(to_decimal, v[U_COST]);
        if (cost == NULL) {
            return NULL;
        }
    }
    int model_given = 0;
    if (v[U_MODEL] != NULL && (model_given = PyObject_IsTrue(v[U_MODEL])) < 0) {
        Py_XDECREF(cost);
        return NULL;
    }
    for (int i = 0; i < 7; i++) { /* U_IN .. U_GPU: the order of uv */
        Py_XSETREF(self->uv[i], Py_NewRef(v[i] ? v[i] : Py_None));
    }
    self->u_inline = estimated ? 2 : 1;
    Py_CLEAR(self->usage);
    if (model_given) {
        Py_SETREF(self->response_model, Py_NewRef(v[U_MODEL]));
    }
    if (cost != NULL) {
        Py_SETREF(self->provider_cost, cost);
    }
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* The line                                                                                                          */

typedef struct {
    char *p;
    size_t len, cap;
    char small[2048];
} Buf;

static void
buf_init(Buf *b)
{
    b->p = b->small;
    b->len = 0;
    b->cap = sizeof b->small;
}

static void
buf_free(Buf *b)
{
    if (b->p != b->small) {
        PyMem_Free(b->p);
    }
}

static int
buf_grow_slow(Buf *b, size_t need)
{
    size_t cap = b->cap * 2;
    while (cap < b->len + need) {
        cap *= 2;
    }
    char *p = PyMem_Malloc(cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(p, b->p, b->len);
    buf_free(b);
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Room for need more bytes. */
static inline __attribute__((always_inline)) int
buf_grow(Buf *b, size_t need)
{
    if (__builtin_expect(b->len + need <= b->cap, 1)) {
        return 0;
    }
    return buf_grow_slow(b, need);
}

static inline __attribute__((always_inline)) int
put(Buf *b, const char *s, size_t n)
{
    if (buf_grow(b, n) < 0) {
        return -1;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

#define PUT_LIT(b, s) put((b), (s), sizeof(s) - 1)

/* A JSON string as msgspec writes it: UTF-8 as is; '"' and '\\' escaped, control bytes as \b \t \n \f \r or
 * \u00XX. Returns 1 when not taken (not a str, or not encodable as UTF-8). */
static unsigned char PLAIN[256]; /* 1: a byte written as is */

/* Whether any of the 8 bytes of w is a control byte, '"' or '\\' (exact: no byte is missed, none is flagged in a
 * word without one). */
static inline int
word_has_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), slash = w ^ (ones * '\\');
    uint64_t below = (w - ones * 0x20) & ~w;
    return ((below | ((quote - ones) & ~quote) | ((slash - ones) & ~slash)) & highs) != 0;
}

static int
put_text(Buf *b, const char *s, Py_ssize_t n)
{
    if (buf_grow(b, (size_t)n * 6 + 2) < 0) {
        return -1;
    }
    char *o = b->p + b->len;
    *o++ = '"';
    Py_ssize_t i = 0;
    while (i < n) {
        while (i + 8 <= n) { /* eight plain bytes at a time */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (word_has_special(w)) {
                break;
            }
            memcpy(o, &w, 8);
            o += 8;
            i += 8;
        }
        Py_ssize_t j = i;
        while (j < n && PLAIN[(unsigned char)s[j]]) {
            j++;
        }
        memcpy(o, s + i, (size_t)(j - i));
        o += j - i;
        if (j == n) {
            break;
        }
        unsigned char c = (unsigned char)s[j];
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\t': *o++ = 't'; break;
        case '\n': *o++ = 'n'; break;
        case '\f': *o++ = 'f'; break;
        case '\r': *o++ = 'r'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = HEX[c >> 4];
            *o++ = HEX[c & 15];
        }
        i = j + 1;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
    return 0;
}

enum { TAKEN = 0, NOT_TAKEN = 1, FAILED = -1, RAISED = 2 /* written; a sink raised what is passed on */ };

static inline __attribute__((always_inline)) int
put_str(Buf *b, PyObject *s)
{
    if (!PyUnicode_Check(s)) {
        return NOT_TAKEN;
    }
    if (PyUnicode_IS_COMPACT_ASCII(s)) {
        return put_text(b, (const char *)PyUnicode_DATA(s), PyUnicode_GET_LENGTH(s));
    }
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (u == NULL) {
        PyErr_Clear(); /* lone surrogates: the Python path says what is wrong */
        return NOT_TAKEN;
    }
    return put_text(b, u, n);
}

static inline __attribute__((always_inline)) int
put_str_or_null(Buf *b, PyObject *s)
{
    if (s == NULL || s == Py_None) {
        return PUT_LIT(b, "null");
    }
    return put_str(b, s);
}

static inline __attribute__((always_inline)) int
put_i64(Buf *b, long long v)
{
    char tmp[24];
    int n = 0;
    unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (v < 0) {
        tmp[n++] = '-';
    }
    if (buf_grow(b, (size_t)n) < 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        b->p[b->len + i] = tmp[n - 1 - i];
    }
    b->len += (size_t)n;
    return 0;
}

/* An int (exactly int: bool and subclasses go the Python way) that fits 64 bits, or null. */
static inline __attribute__((always_inline)) int
put_int_or_null(Buf *b, PyObject *v)
{
    if (v == NULL || v == Py_None) {
        return PUT_LIT(b, "null");
    }
    if (!PyLong_CheckExact(v)) {
        return NOT_TAKEN;
    }
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow) {
        return NOT_TAKEN;
    }
    return put_i64(b, x);
}

/* A number with digits d (no leading or trailing zero, nd of them) and scientific exponent e (the value is
 * d[0].d[1..] x 10^e), as msgspec writes a float: fixed notation from 1e-5 up to below 1e16 (a whole number ends in
 * ".0"), else "d.ddde-7" / "de16" (no '+', no padding). */
static int
put_digits(Buf *b, int negative, const char *d, int nd, int e)
{
    if (buf_grow(b, (size_t)nd + 32) < 0) {
        return -1;
    }
    char *o = b->p + b->len;
    if (negative) {
        *o++ = '-';
    }
    if (e >= -5 && e < 16) {
        if (e < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -e - 1; i++) {
                *o++ = '0';
            }
            memcpy(o, d, (size_t)nd);
            o += nd;
        }
        else if (nd <= e + 1) {
            memcpy(o, d, (size_t)nd);
            o += nd;
            for (int i = nd; i < e + 1; i++) {
                *o++ = '0';
            }
            *o++ = '.';
            *o++ = '0';
        }
        else {
            memcpy(o, d, (size_t)(e + 1));
            o += e + 1;
            *o++ = '.';
            memcpy(o, d + e + 1, (size_t)(nd - e - 1));
            o += nd - e - 1;
        }
    }
    else {
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)(nd - 1));
            o += nd - 1;
        }
        *o++ = 'e';
        int x = e;
        if (x < 0) {
            *o++ = '-';
            x = -x;
        }
        char t[8];
        int n = 0;
        do {
            t[n++] = (char)('0' + x % 10);
            x /= 10;
        } while (x);
        while (n) {
            *o++ = t[--n];
        }
    }
    b->len = (size_t)(o - b->p);
    return 0;
}

/* n / 10^scale as a float (n >= 0, below 10^15, so the decimal is the shortest form of the correctly rounded
 * double: what repr and msgspec print). */
static int
put_scaled(Buf *b, int64_t n, int scale)
{
    if (n == 0) {
        return PUT_LIT(b, "0.0");
    }
    char d[24];
    int nd = 0;
    char rev[24];
    int64_t m = n;
    while (m) {
        rev[nd++] = (char)('0' + m % 10);
        m /= 10;
    }
    int e = nd - 1 - scale;
    int start = 0;
    while (rev[start] == '0') { /* trailing zeros of the number are dropped */
        start++;
    }
    int k = 0;
    for (int i = nd - 1; i >= start; i--) {
        d[k++] = rev[i];
    }
    return put_digits(b, 0, d, k, e);
}

/* Any finite double, from its repr digits. */
static int
put_double(Buf *b, double v)
{
    if (!isfinite(v)) {
        return NOT_TAKEN; /* msgspec writes null for these: the Python path keeps that rule */
    }
    char *r = PyOS_double_to_string(v, 'r', 0, 0, NULL);
    if (r == NULL) {
        return -1;
    }
    const char *s = r;
    int negative = 0;
    if (*s == '-') {
        negative = 1;
        s++;
    }
    char d[32];
    int nd = 0, point = -1, e = 0, exp_part = 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') {
            if (nd < 30) {
                d[nd++] = *s;
            }
        }
        else if (*s == '.') {
            point = nd;
        }
        else if (*s == 'e') {
            exp_part = atoi(s + 1);
            break;
        }
    }
    PyMem_Free(r);
    if (point < 0) {
        point = nd;
    }
    /* value = 0.d x 10^point x 10^exp_part; strip leading zeros (moving the point), then trailing zeros */
    int lead = 0;
    while (lead < nd - 1 && d[lead] == '0') {
        lead++;
    }
    if (lead == nd - 1 && d[lead] == '0') {
        return put_digits(b, negative, "0", 1, 0);
    }
    e = point - lead - 1 + exp_part;
    int last = nd - 1;
    while (last > lead && d[last] == '0') {
        last--;
    }
    return put_digits(b, negative, d + lead, last - lead + 1, e);
}

/* A float or int field that may be null (gpu_seconds). */
static int
put_number_or_null(Buf *b, PyObject *v)
{
    if (v == NULL || v == Py_None) {
        return PUT_LIT(b, "null");
    }
    if (PyFloat_CheckExact(v)) {
        return put_double(b, PyFloat_AS_DOUBLE(v));
    }
    return put_int_or_null(b, v);
}

/* A JSON value of metadata as msgspec writes it: str, int (64 bits), float, bool, None, and lists, tuples and
 * dicts (str keys, insertion order) of these, at most 8 deep. Anything else: NOT_TAKEN (the Python path encodes
 * it, leniently if it is not JSON). */
static int
put_json(Buf *b, PyObject *v, int depth)
{
    if (v == Py_None) {
        return PUT_LIT(b, "null");
    }
    if (v == Py_True) {
        return PUT_LIT(b, "true");
    }
    if (v == Py_False) {
        return PUT_LIT(b, "false");
    }
    if (PyUnicode_CheckExact(v)) {
        return put_str(b, v);
    }
    if (PyLong_CheckExact(v)) {
        return put_int_or_null(b, v);
    }
    if (PyFloat_CheckExact(v)) {
        return put_double(b, PyFloat_AS_DOUBLE(v));
    }
    if (depth >= 8) {
        return NOT_TAKEN;
    }
    int r;
    if (PyList_CheckExact(v) || PyTuple_CheckExact(v)) {
        if ((r = PUT_LIT(b, "[")) != TAKEN) {
            return r;
        }
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(v); i++) {
            if ((i && (r = PUT_LIT(b, ",")) != TAKEN) ||
                (r = put_json(b, PySequence_Fast_GET_ITEM(v, i), depth + 1)) != TAKEN) {
                return r;
            }
        }
        return PUT_LIT(b, "]");
    }
    if (PyDict_CheckExact(v)) {
        if ((r = PUT_LIT(b, "{")) != TAKEN) {
            return r;
        }
        Py_ssize_t pos = 0, i = 0;
        PyObject *key, *item;
        while (PyDict_Next(v, &pos, &key, &item)) {
            if (!PyUnicode_CheckExact(key)) {
                return NOT_TAKEN;
            }
            if ((i++ && (r = PUT_LIT(b, ",")) != TAKEN) || (r = put_str(b, key)) != TAKEN ||
                (r = PUT_LIT(b, ":")) != TAKEN || (r = put_json(b, item, depth + 1)) != TAKEN) {
                return r;
            }
        }
        return PUT_LIT(b, "}");
    }
    return NOT_TAKEN;
}

/* Milliseconds to 3 decimals, as int(seconds * 1e6 + 0.5) / 1000 in Python. */
static int
put_millis(Buf *b, double seconds)
{
    double x = seconds * 1e6 + 0.5;
    if (!(x > -1.0 && x < 1e15)) { /* a negative int() would round the other way; huge values: Python's affair */
        return NOT_TAKEN;
    }
    return put_scaled(b, (int64_t)x, 3);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Pricing: the tracker's memoised rate plans                                                                      */

/* The integer rates of a few plans, by identity (plans are immutable; each entry holds a reference). */
typedef struct {
    PyObject *plan; /* NULL: empty */
    int64_t pico[6], fee, tier_min;
    PyObject *ref;
} PlanRates;

#define PLAN_CACHE 16
static PlanRates plan_cache[PLAN_CACHE];

static int
i64_of(PyObject *v, int64_t *out)
{
    if (!PyLong_CheckExact(v)) {
        return NOT_TAKEN;
    }
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return NOT_TAKEN;
    }
    *out = x;
    return TAKEN;
}

/* The rates of a plan (a pricing RatePlan), cached; NULL when the plan needs the Python path. */
static PlanRates *
plan_rates(PyObject *plan)
{
    size_t h = ((size_t)plan >> 4) % PLAN_CACHE;
    PlanRates *e = &plan_cache[h];
    if (e->plan == plan) {
        return e;
    }
    PlanRates fresh = {NULL};
    PyObject *pico = PyObject_GetAttr(plan, A_pico);
    PyObject *fee = pico == NULL ? NULL : PyObject_GetAttr(plan, A_fee);
    PyObject *tier_min = fee == NULL ? NULL : PyObject_GetAttr(plan, A_tier_min);
    PyObject *ref = tier_min == NULL ? NULL : PyObject_GetAttr(plan, A_ref);
    int ok = ref != NULL && PyTuple_Check(pico) && PyTuple_GET_SIZE(pico) == 6 &&
             (ref == Py_None || PyUnicode_Check(ref)) && i64_of(fee, &fresh.fee) == TAKEN &&
             i64_of(tier_min, &fresh.tier_min) == TAKEN;
    for (int i = 0; ok && i < 6; i++) {
        ok = i64_of(PyTuple_GET_ITEM(pico, i), &fresh.pico[i]) == TAKEN;
    }
    Py_XDECREF(pico);
    Py_XDECREF(fee);
    Py_XDECREF(tier_min);
    PyErr_Clear();
    if (!ok) {
        Py_XDECREF(ref);
        return NULL;
    }
    Py_XDECREF(e->plan);
    Py_XDECREF(e->ref);
    *e = fresh;
    e->plan = Py_NewRef(plan);
    e->ref = ref;
    return e;
}

/* A usage count as pico_total reads it: None is 0; anything but an int that fits goes the Python way. */
static int
count_of(PyObject *v, int64_t *out)
{
    if (v == Py_None) {
        *out = 0;
        return TAKEN;
    }
    return i64_of(v, out);
}

/* pico_total of RatePlan, in 64-bit integers: TAKEN with *total, or NOT_TAKEN for everything it would send to
 * Catalog.price (impossible counts, a long-context tier, an overflow, a total too large to print exactly). */
static int
pico_total(PlanRates *r, Usage *u, int64_t *total)
{
    int64_t inp, out, cr, cw, cw1, rs;
    if (count_of(u->input_tokens, &inp) || count_of(u->output_tokens, &out) || count_of(u->cache_read, &cr) ||
        count_of(u->cache_write, &cw) || count_of(u->cache_write_1h, &cw1) || count_of(u->reasoning, &rs)) {
        return NOT_TAKEN;
    }
    if (inp > r->tier_min) {
        return NOT_TAKEN;
    }
    int64_t t = r->fee, p, uncached, visible;
    /* uncached input leaves out every cache write, the one-hour ones included */
    if (__builtin_sub_overflow(inp, cr, &uncached) || __builtin_sub_overflow(uncached, cw, &uncached) ||
        __builtin_sub_overflow(out, rs, &visible)) {
        return NOT_TAKEN;
    }
    if (cw1) { /* the one-hour part of the cache writes, at its own rate */
        if (cw1 > cw) {
            cw1 = cw;
        }
        cw -= cw1;
        if (cw1 < 0) {
            return NOT_TAKEN;
        }
        if (__builtin_mul_overflow(r->pico[3], cw1, &p) || __builtin_add_overflow(t, p, &t)) {
            return NOT_TAKEN;
        }
    }
    if ((uncached | visible | cr | cw | rs) < 0) {
        return NOT_TAKEN;
    }
    const int64_t n[5] = {uncached, cr, cw, visible, rs};
    const int which[5] = {0, 1, 2, 4, 5};
    for (int i = 0; i < 5; i++) {
        if (__builtin_mul_overflow(r->pico[which[i]], n[i], &p) || __builtin_add_overflow(t, p, &t)) {
            return NOT_TAKEN;
        }
    }
    if (t < 0 || t >= 1000000000000000LL) { /* negative: Python's slow path; >= $1,000: printed the Python way */
        return NOT_TAKEN;
    }
    *total = t;
    return TAKEN;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Writing a finished call                                                                                          */

#define TRY(x)                                                                                                      \
    do {                                                                                                             \
        int _r = (x);                                                                                                \
        if (_r != TAKEN) {                                                                                           \
            rc = _r;                                                                                                 \
            goto done;                                                                                               \
        }                                                                                                            \
    } while (0)

/* The instance dict of a tracker or writer (a new reference; NULL with an error if it has none). Their attributes
 * are read from it: a dict lookup each, where getattr would first search the class. */
static PyObject *
dict_of(PyObject *obj)
{
    PyObject *d = PyObject_GenericGetDict(obj, NULL);
    if (d != NULL && !PyDict_Check(d)) {
        Py_DECREF(d);
        PyErr_SetString(PyExc_TypeError, "__dict__ is not a dict");
        return NULL;
    }
    return d;
}

/* d[key] borrowed, or NULL when absent (no error: an attribute left on the class reads as "not the common case"). */
static PyObject *
dget(PyObject *d, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v == NULL) {
        PyErr_Clear();
    }
    return v;
}

/* obj.name += 1 */
static void
bump(PyObject *obj, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    PyObject *w = v == NULL ? NULL : PyNumber_Add(v, one);
    Py_XDECREF(v);
    if (w != NULL) {
        PyObject_SetAttr(obj, name, w);
        Py_DECREF(w);
    }
    PyErr_Clear();
}

/* Count a failure of the write's Python part in tracker.stats.internal_errors, as the Python path would. */
static void
count_internal(PyObject *tracker)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *name = value == NULL ? NULL : PyObject_GetAttr((PyObject *)Py_TYPE(value), A_name);
    PyObject *message = name == NULL ? NULL
                                     : PyUnicode_FromFormat("llmcost: could not record a call: %S: %S", name, value);
    Py_XDECREF(name);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    if (message != NULL) {
        PyObject *r = PyObject_CallMethodObjArgs(tracker, A_count, A_internal, message, NULL);
        Py_XDECREF(r);
        Py_DECREF(message);
    }
    PyErr_Clear();
}

/* Stop writing straight to the direct writer (adding what was written to its count). */
static void
forget_direct(void)
{
    if (direct_writer != NULL && direct_written) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyObject *d = dict_of(direct_writer);
        PyObject *before = d == NULL ? NULL : PyDict_GetItemWithError(d, A_written_own);
        PyObject *add = before == NULL ? NULL : PyLong_FromSsize_t(direct_written);
        PyObject *after = add == NULL ? NULL : PyNumber_Add(before, add);
        if (after != NULL) {
            PyDict_SetItem(d, A_written_own, after);
        }
        Py_XDECREF(after);
        Py_XDECREF(add);
        Py_XDECREF(d);
        PyErr_Clear();
        PyErr_Restore(type, value, tb);
    }
    direct_written = 0;
    direct_writer = NULL;
    Py_CLEAR(direct_ref);
    direct_fd = -1;
}

/* Whether a line of day ``ts`` can go straight to ``writer``'s descriptor; if so, remember it as the direct writer.
 * It can when the FileWriter has the day's file open in this process, with no cap, and its lock is free (checked
 * last: no Python code runs between that check and the write, so no thread can take the lock in between). */
static int
take_direct(PyObject *writer, const char *ts)
{
    forget_direct();
    if ((PyObject *)Py_TYPE(writer) != file_writer_cls) {
        return 0;
    }
    PyObject *wd = dict_of(writer);
    if (wd == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *fd_obj = dget(wd, A_fd), *day = dget(wd, A_day), *fork = dget(wd, A_fork),
             *max_bytes = dget(wd, A_max_bytes), *lock = dget(wd, A_lock), *forks = dget(writer_globals, A_forks),
             *written = dget(wd, A_written_own);
    if (fd_obj != NULL && day != NULL && fork != NULL && lock != NULL && forks != NULL && written != NULL &&
        max_bytes == Py_None && PyLong_CheckExact(fd_obj) && PyUnicode_Check(day) &&
        PyUnicode_GET_LENGTH(day) == 10 && PyUnicode_KIND(day) == PyUnicode_1BYTE_KIND &&
        memcmp(PyUnicode_DATA(day), ts, 10) == 0) {
        long fd = PyLong_AsLong(fd_obj);
        int same_fork = PyObject_RichCompareBool(fork, forks, Py_EQ);
        if (fd >= 0 && same_fork == 1) {
            PyObject *held = PyObject_CallMethodNoArgs(lock, A_locked);
            if (held == Py_False && (direct_ref = PyWeakref_NewRef(writer, forget_dead)) != NULL) {
                direct_writer = writer;
                direct_fd = fd;
                memcpy(direct_day, ts, 10);
            }
            Py_XDECREF(held);
        }
    }
    PyErr_Clear();
    Py_DECREF(wd);
    return direct_writer != NULL;
}

/* Append the line: straight to the FileWriter's descriptor when take_direct allows it, else through
 * writer.write_line. Called once the line is complete; nothing it meets is passed on. */
static void
write_line(PyObject *tracker, PyObject *writer, Buf *b, const char *ts)
{
    if ((writer == direct_writer && memcmp(direct_day, ts, 10) == 0) || take_direct(writer, ts)) {
        Py_ssize_t n;
        do {
            n = write((int)direct_fd, b->p, b->len);
        } while (n < 0 && errno == EINTR);
        if (n == (Py_ssize_t)b->len) {
            direct_written++;
            return;
        }
        int err = n < 0 ? errno : ENOSPC; /* a short write only happens when the disk fills up mid-line */
        forget_direct();                  /* the writer counts it, and the next line checks everything again */
        PyObject *exc = PyObject_CallFunction(PyExc_OSError, "is", err, strerror(err));
        PyObject *r = exc == NULL ? NULL : PyObject_CallMethodOneArg(writer, A_drop, exc);
        Py_XDECREF(exc);
        if (r == NULL) {
            count_internal(tracker);
        }
        Py_XDECREF(r);
        return;
    }
    PyObject *day = ascii_str(ts, 10);
    PyObject *data = day == NULL ? NULL : PyBytes_FromStringAndSize(b->p, (Py_ssize_t)b->len);
    PyObject *r = data == NULL ? NULL : PyObject_CallMethodObjArgs(writer, A_write_line, day, data, NULL);
    Py_XDECREF(day);
    Py_XDECREF(data);
    if (r == NULL) {
        count_internal(tracker);
    }
    Py_XDECREF(r);
}

static PyObject *
dict_get(PyObject *d, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(d, key);
    return v == NULL ? Py_None : v; /* an error (a str key cannot raise) reads as absent, as a.get does */
}

/* `value or "default"`, for source and operation. */
static inline __attribute__((always_inline)) int
put_or(Buf *b, PyObject *v, const char *dflt, size_t n)
{
    if (v == Py_None || (PyUnicode_Check(v) && PyUnicode_GET_LENGTH(v) == 0)) {
        return put(b, dflt, n);
    }
    return put_str(b, v);
}

/* The Tracker last seen taking the fast path, and what was read from it. Tracker.__setattr__ calls forget_tracker:
 * any attribute set on it (a sink added, a new writer, the plans looked at again) makes the next call read it again. */
static struct {
    PyObject *tracker;                          /* borrowed (NULL: none); ref forgets it when the tracker goes */
    PyObject *ref, *writer, *stats, *plans, *sinks; /* strong references */
    PyObject *defaults;                         /* for trace(): set when it has no budget (strong) */
    double until;                               /* _plans_until */
    int gpus;                                   /* tracker.gpus is set */
} ts_cache;

static void
forget_tracker(void)
{
    ts_cache.tracker = NULL;
    Py_CLEAR(ts_cache.ref);
    Py_CLEAR(ts_cache.writer);
    Py_CLEAR(ts_cache.stats);
    Py_CLEAR(ts_cache.plans);
    Py_CLEAR(ts_cache.sinks);
    Py_CLEAR(ts_cache.defaults);
}

/* 1 when the tracker can take the fast path (ts_cache then describes it), 0 when not. */
static int
tracker_state(PyObject *tracker)
{
    if (tracker == ts_cache.tracker) {
        return 1;
    }
    forget_tracker();
    PyObject *td = dict_of(tracker);
    if (td == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *sinks = dget(td, A_sinks), *writer = dget(td, A_writer), *stats = dget(td, A_stats),
             *until = dget(td, A_plans_until), *plans = dget(td, A_plans), *gpus = dget(td, A_gpus);
    int ok = sinks != NULL && writer != NULL && stats != NULL && until != NULL && plans != NULL && gpus != NULL &&
             PyTuple_CheckExact(sinks) && PyFloat_CheckExact(until) &&
             PyDict_CheckExact(plans) && dget(td, A_ledger) == Py_None && dget(td, A_call_cost) == Py_None;
    if (ok) {
        int g = PyObject_IsTrue(gpus);
        ok = g >= 0;
        ts_cache.gpus = g;
        ts_cache.until = PyFloat_AS_DOUBLE(until);
        ts_cache.writer = Py_NewRef(writer);
        ts_cache.stats = Py_NewRef(stats);
        ts_cache.plans = Py_NewRef(plans);
        ts_cache.sinks = Py_NewRef(sinks);
        ts_cache.ref = PyWeakref_NewRef(tracker, forget_dead);
        ok = ok && ts_cache.ref != NULL;
        ts_cache.tracker = tracker;
        PyObject *budgets = dget(td, A_budgets), *defaults = dget(td, A_defaults);
        if (budgets != NULL && PyTuple_CheckExact(budgets) && PyTuple_GET_SIZE(budgets) == 0 && defaults != NULL &&
            PyDict_CheckExact(defaults) && dget(defaults, S_hint) == NULL) {
            ts_cache.defaults = Py_NewRef(defaults);
        }
    }
    PyErr_Clear();
    Py_DECREF(td);
    if (!ok) {
        forget_tracker();
    }
    return ok;
}

/* The (model, provider) -> (plan, since, until) entry last found in the tracker's plans: a plan stays right for its
 * range even when the memo is later cleared, and the memo is a new dict when the catalog changes. */
static PyObject *hit_plans, *hit_model, *hit_provider, *hit_entry;

/* since <= at < until for the entry (its bounds are floats: checked when it was taken) */
static int
hit_range_holds(double at)
{
    return PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(hit_entry, 1)) <= at && at < PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(hit_entry, 2));
}

/* Hand the line to each sink (exporters), as Recorder._to_sinks does: what a sink raises is counted in
 * stats.hook_errors, and only what is not an Exception (KeyboardInterrupt...) is passed on (RAISED). */
static int
to_sinks(PyObject *tracker, PyObject *sinks, Buf *b)
{
    PyObject *data = PyBytes_FromStringAndSize(b->p, (Py_ssize_t)b->len);
    if (data == NULL) {
        count_internal(tracker);
        return TAKEN;
    }
    int rc = TAKEN;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(sinks); i++) {
        PyObject *r = PyObject_CallOneArg(PyTuple_GET_ITEM(sinks, i), data);
        if (r != NULL) {
            Py_DECREF(r);
            continue;
        }
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            rc = RAISED;
            break;
        }
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyObject *name = PyObject_GetAttr((PyObject *)Py_TYPE(value), A_name);
        PyObject *message = name == NULL ? NULL
                                         : PyUnicode_FromFormat("llmcost: a record sink raised %S: %S", name, value);
        Py_XDECREF(name);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        PyObject *counted = message == NULL ? NULL
                                            : PyObject_CallMethodObjArgs(tracker, A_count, A_hook_errors, message,
                                                                         NULL);
        Py_XDECREF(counted);
        Py_XDECREF(message);
        if (counted == NULL) {
            PyErr_Clear();
        }
    }
    Py_DECREF(data);
    return rc;
}

/* Count the call in its scopes (llmcost._emit.add_to_scopes: the exact cost, as the Python path adds it). What it
 * raises is counted as the Python path's failures are; only what is not an Exception is passed on (RAISED). */
static int
to_scopes(CallCore *c, Usage *u, int64_t total)
{
    if (py_add_to_scopes == NULL) {
        return TAKEN;
    }
    PyObject *cost = PyLong_FromLongLong(total < 0 ? -1 : total);
    PyObject *r = cost == NULL ? NULL
                               : PyObject_CallFunctionObjArgs(
                                     py_add_to_scopes, c->scopes, c->status, u ? u->input_tokens : Py_None,
                                     u ? u->output_tokens : Py_None, u ? u->cache_read : Py_None,
                                     u ? u->cache_write : Py_None, u ? u->reasoning : Py_None, cost, NULL);
    Py_XDECREF(cost);
    if (r != NULL) {
        Py_DECREF(r);
        return TAKEN;
    }
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return RAISED;
    }
    count_internal(c->tracker);
    return TAKEN;
}

/* Write a finished call the fast way: TAKEN (written, or handed to the writer), NOT_TAKEN (nothing done: the caller
 * takes the Python path) or FAILED (an error is set; nothing done). */
static int
fast_emit(CallCore *c)
{
    int rc = NOT_TAKEN;
    Buf b;
    buf_init(&b);
    /* Every object read below is held until the end: a __bool__ or __hash__ of a user value may run Python code,
     * and another thread may meanwhile change the tracker's state kept here or the call's dicts. */
    PyObject *held[32];
    int nheld = 0;
#define HOLD(x) (held[nheld++] = Py_NewRef(x))
    PyObject *tracker = c->tracker, *a = c->attrs, *key = NULL;
    if ((PyObject *)Py_TYPE(tracker) != tracker_cls || c->content != Py_None || c->provider_cost != Py_None ||
        !PyTuple_CheckExact(c->scopes) || !tracker_state(tracker)) {
        goto done;
    }
    PyObject *source, *operation, *server, *stream, *attempt, *fallback, *agent, *session, *user, *workflow, *tags,
        *metadata, *phash, *gpus;
    if (a != NULL) {
        if (!PyDict_CheckExact(a)) {
            goto done;
        }
        source = dict_get(a, K_source);
        operation = dict_get(a, K_operation);
        server = dict_get(a, K_server);
        stream = dict_get(a, K_stream);
        attempt = dict_get(a, K_attempt);
        fallback = dict_get(a, K_fallback);
        gpus = dict_get(a, K_gpus);
    }
    else { /* attrs not made: the tracker's defaults and what trace() sets */
        a = c->defaults;
        if (a == NULL || !PyDict_CheckExact(a)) {
            goto done;
        }
        source = cd_source;
        operation = cd_operation;
        server = cd_server;
        stream = cd_stream;
        attempt = cd_attempt;
        fallback = cd_fallback;
        gpus = cd_gpus;
    }
    agent = dict_get(a, K_agent);
    session = dict_get(a, K_session);
    user = dict_get(a, K_user);
    workflow = dict_get(a, K_workflow);
    tags = dict_get(a, K_tags);
    metadata = dict_get(a, K_metadata);
    phash = dict_get(a, K_phash);
    PyErr_Clear();
    PyObject *writer = ts_cache.writer, *stats = ts_cache.stats, *sinks = ts_cache.sinks, *plans = ts_cache.plans;
    HOLD(a);
    if (a == c->attrs) { /* a dict Python code can change: its values are held too (defaults are never changed) */
        HOLD(source);
        HOLD(operation);
        HOLD(server);
        HOLD(stream);
        HOLD(attempt);
        HOLD(fallback);
        HOLD(gpus);
        HOLD(agent);
        HOLD(session);
        HOLD(user);
        HOLD(workflow);
        HOLD(tags);
        HOLD(metadata);
        HOLD(phash);
    }
    HOLD(writer);
    HOLD(stats);
    HOLD(sinks);
    HOLD(plans);
    HOLD(c->usage != NULL ? c->usage : Py_None);
    double now = now_perf(), elapsed = now - c->t0, end = c->wall0 + elapsed;
    char ts[24], start_ts[24];
    if (PyErr_Occurred() || iso_ms(end, ts) < 0 || iso_ms(c->wall0, start_ts) < 0) {
        rc = PyErr_Occurred() ? FAILED : NOT_TAKEN;
        goto done;
    }

    /* usage and price */
    Usage *u = NULL;
    int64_t total = -1;
    PyObject *ref = Py_None, *gpu = Py_None;
    const char *usage_source = "\"none\"";
    Usage given; /* a view of the counts set_usage kept (its fields are borrowed; not an object) */
    if (c->u_inline) {
        given.input_tokens = c->uv[0];
        given.output_tokens = c->uv[1];
        given.cache_read = c->uv[2];
        given.cache_write = c->uv[3];
        given.cache_write_1h = c->uv[4];
        given.reasoning = c->uv[5];
        given.gpu_seconds = c->uv[6];
        given.response_model = given.response_id = Py_None;
        given.source = c->u_inline == 2 ? S_estimated : S_provider;
        u = &given;
    }
    else if (c->usage != NULL && c->usage != Py_None) {
        if (!PyObject_TypeCheck(c->usage, &UsageType) || !PyUnicode_Check(((Usage *)c->usage)->source)) {
            goto done;
        }
        u = (Usage *)c->usage;
    }
    if (u != NULL) {
        if (u != &given && (PyUnicode_CompareWithASCIIString(u->source, "none") == 0 ||
                            PyUnicode_CompareWithASCIIString(u->source, "error") == 0)) {
            usage_source = NULL; /* "none", and no price */
        }
        gpu = u->gpu_seconds;
        if (gpu == Py_None) { /* GPU time from wall time (vLLM): the Python path */
            int t = PyObject_IsTrue(gpus);
            if (t != 0 || ts_cache.gpus ||
                (PyUnicode_Check(c->provider) && PyUnicode_Compare(c->provider, S_vllm) == 0)) {
                rc = t < 0 ? FAILED : NOT_TAKEN;
                goto done;
            }
        }
    }
    if (u != NULL && usage_source != NULL) {
#ifdef HAVE_LINUX_CLOCKS
        double mono = now; /* time.monotonic and time.perf_counter are one clock here */
#else
        double mono = now_monotonic();
#endif
        if (mono >= ts_cache.until) {
            goto done; /* time to look at the catalog again: the Python path does it */
        }
        int has_model = PyObject_IsTrue(c->response_model);
        if (has_model < 0) {
            rc = FAILED;
            goto done;
        }
        PyObject *model = has_model ? c->response_model : c->request_model, *hit;
        if (model == Py_None) {
            goto done;
        }
        if (!(plans == hit_plans && model == hit_model && c->provider == hit_provider &&
              hit_range_holds(end))) {
            key = PyTuple_Pack(2, model, c->provider);
            hit = key == NULL ? NULL : PyDict_GetItemWithError(plans, key);
            if (hit == NULL || !PyTuple_CheckExact(hit) || PyTuple_GET_SIZE(hit) != 3 ||
                !PyFloat_CheckExact(PyTuple_GET_ITEM(hit, 1)) || !PyFloat_CheckExact(PyTuple_GET_ITEM(hit, 2))) {
                rc = PyErr_Occurred() ? FAILED : NOT_TAKEN;
                goto done;
            }
            Py_XSETREF(hit_plans, Py_NewRef(plans));
            Py_XSETREF(hit_model, Py_NewRef(model));
            Py_XSETREF(hit_provider, Py_NewRef(c->provider));
            Py_XSETREF(hit_entry, Py_NewRef(hit));
            if (!hit_range_holds(end)) {
                goto done; /* the memo is out of date for this time: the Python path looks the plan up again */
            }
        }
        hit = HOLD(hit_entry);
        PyObject *plan = PyTuple_GET_ITEM(hit, 0);
        PlanRates *rates;
        if (plan == Py_None || (rates = plan_rates(plan)) == NULL ||
            pico_total(rates, u, &total) != TAKEN) {
            goto done;
        }
        ref = HOLD(rates->ref);
        usage_source = "";
    }

    /* the line, in the wire format's order */
    TRY(PUT_LIT(&b, "{\"v\":1,\"ts\":\""));
    TRY(put(&b, ts, 24));
    TRY(PUT_LIT(&b, "\",\"start_ts\":\""));
    TRY(put(&b, start_ts, 24));
    TRY(PUT_LIT(&b, "\",\"id\":"));
    if (c->id == NULL) {
        char text[18];
        text[0] = text[17] = '"';
        hex16(c->span, text + 1);
        TRY(put(&b, text, 18));
    }
    else {
        TRY(put_str(&b, c->id));
    }
    TRY(PUT_LIT(&b, ",\"trace_id\":"));
    if (c->trace_id == NULL) {
        char text[34];
        text[0] = text[33] = '"';
        memcpy(text + 1, c->trace_hex, 16);
        hex16(c->trace_span, text + 17);
        TRY(put(&b, text, 34));
    }
    else {
        TRY(put_str_or_null(&b, c->trace_id));
    }
    TRY(PUT_LIT(&b, ",\"parent_id\":"));
    TRY(put_str_or_null(&b, c->parent_id));
    TRY(PUT_LIT(&b, ",\"source\":"));
    TRY(put_or(&b, source, "\"sdk\"", 5));
    TRY(PUT_LIT(&b, ",\"operation\":"));
    TRY(put_or(&b, operation, "\"chat\"", 6));
    TRY(PUT_LIT(&b, ",\"provider\":"));
    TRY(put_str_or_null(&b, c->provider));
    TRY(PUT_LIT(&b, ",\"server_address\":"));
    TRY(put_str_or_null(&b, server));
    TRY(PUT_LIT(&b, ",\"request_model\":"));
    TRY(put_str_or_null(&b, c->request_model));
    TRY(PUT_LIT(&b, ",\"response_model\":"));
    TRY(put_str_or_null(&b, c->response_model));
    TRY(PUT_LIT(&b, ",\"response_id\":"));
    TRY(put_str_or_null(&b, c->response_id));
    int streamed = PyObject_IsTrue(stream);
    if (streamed < 0) {
        rc = FAILED;
        goto done;
    }
    TRY(streamed ? PUT_LIT(&b, ",\"stream\":true,\"input_tokens\":") : PUT_LIT(&b, ",\"stream\":false,\"input_tokens\":"));
    TRY(put_int_or_null(&b, u ? u->input_tokens : NULL));
    TRY(PUT_LIT(&b, ",\"output_tokens\":"));
    TRY(put_int_or_null(&b, u ? u->output_tokens : NULL));
    TRY(PUT_LIT(&b, ",\"cache_read_input_tokens\":"));
    TRY(put_int_or_null(&b, u ? u->cache_read : NULL));
    TRY(PUT_LIT(&b, ",\"cache_creation_input_tokens\":"));
    TRY(put_int_or_null(&b, u ? u->cache_write : NULL));
    TRY(PUT_LIT(&b, ",\"reasoning_output_tokens\":"));
    TRY(put_int_or_null(&b, u ? u->reasoning : NULL));
    TRY(PUT_LIT(&b, ",\"usage_source\":"));
    if (u == NULL || usage_source == NULL) {
        TRY(PUT_LIT(&b, "\"none\""));
    }
    else {
        TRY(put_str(&b, u->source));
    }
    TRY(PUT_LIT(&b, ",\"gpu_seconds\":"));
    TRY(put_number_or_null(&b, gpu));
    if (total >= 0) {
        TRY(PUT_LIT(&b, ",\"cost_usd\":"));
        TRY(put_scaled(&b, total, 12));
        TRY(PUT_LIT(&b, ",\"cost_status\":\"priced\",\"price_ref\":"));
        TRY(put_str_or_null(&b, ref));
    }
    else {
        TRY(PUT_LIT(&b, ",\"cost_usd\":null,\"cost_status\":\"no_usage\",\"price_ref\":null"));
    }
    TRY(PUT_LIT(&b, ",\"latency_ms\":"));
    TRY(put_millis(&b, elapsed));
    TRY(PUT_LIT(&b, ",\"ttft_ms\":"));
    if (c->ttft == Py_None) {
        TRY(PUT_LIT(&b, "null"));
    }
    else if (PyFloat_CheckExact(c->ttft)) {
        TRY(put_millis(&b, PyFloat_AS_DOUBLE(c->ttft)));
    }
    else {
        goto done;
    }
    TRY(PUT_LIT(&b, ",\"status\":"));
    TRY(put_str(&b, c->status));
    PyObject *err_type = Py_None, *err_message = Py_None, *http_status = Py_None;
    if (c->error != Py_None) {
        if (!PyTuple_CheckExact(c->error) || PyTuple_GET_SIZE(c->error) != 3) {
            goto done;
        }
        err_type = PyTuple_GET_ITEM(c->error, 0);
        err_message = PyTuple_GET_ITEM(c->error, 1);
        http_status = PyTuple_GET_ITEM(c->error, 2);
    }
    TRY(PUT_LIT(&b, ",\"error_type\":"));
    TRY(put_str_or_null(&b, err_type));
    TRY(PUT_LIT(&b, ",\"error_message\":"));
    TRY(put_str_or_null(&b, err_message));
    TRY(PUT_LIT(&b, ",\"attempt\":"));
    if (attempt == Py_None || attempt == Py_False) {
        TRY(PUT_LIT(&b, "0"));
    }
    else {
        TRY(put_int_or_null(&b, attempt));
    }
    TRY(PUT_LIT(&b, ",\"fallback_from\":"));
    TRY(put_str_or_null(&b, fallback));
    TRY(PUT_LIT(&b, ",\"agent\":"));
    TRY(put_str_or_null(&b, agent));
    TRY(PUT_LIT(&b, ",\"session_id\":"));
    TRY(put_str_or_null(&b, session));
    TRY(PUT_LIT(&b, ",\"user_id\":"));
    TRY(put_str_or_null(&b, user));
    TRY(PUT_LIT(&b, ",\"workflow\":"));
    TRY(put_str_or_null(&b, workflow));
    TRY(PUT_LIT(&b, ",\"tags\":"));
    if (tags == Py_None) {
        TRY(PUT_LIT(&b, "null"));
    }
    else if (PyList_CheckExact(tags) || PyTuple_CheckExact(tags)) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(tags);
        TRY(PUT_LIT(&b, "["));
        for (Py_ssize_t i = 0; i < n; i++) {
            if (i) {
                TRY(PUT_LIT(&b, ","));
            }
            TRY(put_str(&b, PySequence_Fast_GET_ITEM(tags, i)));
        }
        TRY(PUT_LIT(&b, "]"));
    }
    else {
        goto done;
    }
    TRY(PUT_LIT(&b, ",\"metadata\":"));
    TRY(put_json(&b, metadata, 0));
    TRY(PUT_LIT(&b, ",\"prompt_hash\":"));
    TRY(put_str_or_null(&b, phash));
    TRY(PUT_LIT(&b, ",\"http_status\":"));
    TRY(put_int_or_null(&b, http_status));
    TRY(PUT_LIT(&b, "}\n"));

    /* From here on the call is recorded by this path, whatever happens. */
    write_line(tracker, writer, &b, ts);
    if (PyObject_TypeCheck(stats, &StatsCoreType)) {
        ((StatsCore *)stats)->calls++;
    }
    else {
        bump(stats, A_calls);
    }
    rc = PyTuple_GET_SIZE(sinks) ? to_sinks(tracker, sinks, &b) : TAKEN;
    if (rc == TAKEN && PyTuple_GET_SIZE(c->scopes)) {
        rc = to_scopes(c, u, total);
    }
done:
    if (rc == FAILED && !PyErr_Occurred()) {
        rc = NOT_TAKEN;
    }
    if (rc == NOT_TAKEN) {
        PyErr_Clear();
    }
    Py_XDECREF(key);
    while (nheld) {
        Py_DECREF(held[--nheld]);
    }
#undef HOLD
    buf_free(&b);
    return rc;
}

/* Write a finished call: the fast path, else Tracker._emit. */
static int
emit(CallCore *c)
{
    if (fast_enabled) {
        int r = fast_emit(c);
        if (r == TAKEN || r == RAISED) {
            return r == TAKEN ? 0 : -1;
        }
        PyErr_Clear(); /* nothing was written: the Python path does it all, and counts what goes wrong */
    }
    PyObject *r = PyObject_CallMethodOneArg(c->tracker, A_emit, (PyObject *)c);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static PyObject *
CallCore_write(CallCore *self, PyObject *noargs)
{
    if (emit(self) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
CallCore_enter(CallCore *self, PyObject *noargs)
{
    PyObject *token = PyContextVar_Set(span_var, (PyObject *)self);
    if (token == NULL) {
        return NULL;
    }
    Py_SETREF(self->token, token);
    return Py_NewRef(self);
}

static PyObject *
CallCore_exit(CallCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "__exit__() takes 3 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *token = self->token;
    if (token != Py_None) {
        self->token = Py_NewRef(Py_None);
        int r = PyContextVar_Reset(span_var, token);
        Py_DECREF(token);
        if (r < 0) {
            if (!PyErr_ExceptionMatches(PyExc_ValueError)) {
                return NULL;
            }
            PyErr_Clear(); /* exited in another context (a generator resumed elsewhere) */
        }
    }
    PyObject *exc = args[1];
    if (exc != Py_None) {
        PyObject *r = PyObject_CallMethodOneArg((PyObject *)self, A_set_error, exc);
        if (r == NULL) {
            return NULL;
        }
        Py_DECREF(r);
    }
    else if (self->streaming) {
        Py_RETURN_NONE; /* the stream records the call when it ends */
    }
    if (!self->done) {
        self->done = 1;
        if (emit(self) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *CallCore_record(CallCore *self, PyObject *response);

static PyMethodDef CallCore_methods[] = {
    {"set_usage", (PyCFunction)(void (*)(void))CallCore_set_usage, METH_FASTCALL | METH_KEYWORDS,
     "set_usage(input_tokens=None, output_tokens=None, *, cache_read_input_tokens=None, "
     "cache_creation_input_tokens=None, cache_creation_1h_input_tokens=None, reasoning_output_tokens=None, "
     "gpu_seconds=None, response_model=None, cost_usd=None, estimated=False)\n--\n\n"
     "Give the counts directly (inclusive, as in the wire format). ``cost_usd`` is a provider-reported cost."},
    {"_write", (PyCFunction)CallCore_write, METH_NOARGS, "Write the record now (the caller marks the call done)."},
    {"record", (PyCFunction)CallCore_record, METH_O,
     "record($self, response, /)\n--\n\nRead usage, model and id from a provider response; returns ``response`` "
     "unchanged."},
    {"__enter__", (PyCFunction)CallCore_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))CallCore_exit, METH_FASTCALL, NULL},
    {NULL},
};

static PyMemberDef CallCore_members[] = {
    {"tracker", T_OBJECT, offsetof(CallCore, tracker), 0, NULL},
    {"parent_id", T_OBJECT, offsetof(CallCore, parent_id), 0, NULL},
    {"request_model", T_OBJECT, offsetof(CallCore, request_model), 0, NULL},
    {"provider", T_OBJECT, offsetof(CallCore, provider), 0, NULL},
    {"hint", T_OBJECT, offsetof(CallCore, hint), 0, NULL},
    {"scopes", T_OBJECT, offsetof(CallCore, scopes), 0, NULL},
    {"response_model", T_OBJECT, offsetof(CallCore, response_model), 0, NULL},
    {"response_id", T_OBJECT, offsetof(CallCore, response_id), 0, NULL},
    {"provider_cost", T_OBJECT, offsetof(CallCore, provider_cost), 0, NULL},
    {"ttft", T_OBJECT, offsetof(CallCore, ttft), 0, NULL},
    {"status", T_OBJECT, offsetof(CallCore, status), 0, NULL},
    {"error", T_OBJECT, offsetof(CallCore, error), 0, NULL},
    {"content", T_OBJECT, offsetof(CallCore, content), 0, NULL},
    {"_token", T_OBJECT, offsetof(CallCore, token), 0, NULL},
    {"wall0", T_DOUBLE, offsetof(CallCore, wall0), 0, NULL},
    {"t0", T_DOUBLE, offsetof(CallCore, t0), 0, NULL},
    {"done", T_BOOL, offsetof(CallCore, done), 0, NULL},
    {"_streaming", T_BOOL, offsetof(CallCore, streaming), 0, NULL},
    {NULL},
};

static PyObject *
get_id(CallCore *c, void *closure)
{
    return Py_XNewRef(call_id(c));
}

static PyObject *
get_trace_id(CallCore *c, void *closure)
{
    return Py_XNewRef(call_trace_id(c));
}

static PyObject *
get_attrs(CallCore *c, void *closure)
{
    return Py_XNewRef(call_attrs(c));
}

static int
set_field(PyObject **field, PyObject *value)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete a call's field");
        return -1;
    }
    Py_XSETREF(*field, Py_NewRef(value));
    return 0;
}

static int
set_id(CallCore *c, PyObject *value, void *closure)
{
    return set_field(&c->id, value);
}

static int
set_trace_id(CallCore *c, PyObject *value, void *closure)
{
    return set_field(&c->trace_id, value);
}

static int
set_attrs(CallCore *c, PyObject *value, void *closure)
{
    if (set_field(&c->attrs, value) < 0) {
        return -1;
    }
    Py_CLEAR(c->defaults);
    return 0;
}

/* The usage of a call: an Extracted made from the counts set_usage kept, on first read. */
static PyObject *
get_usage(CallCore *c, void *closure)
{
    if (c->u_inline) {
        Usage *u = (Usage *)extracted_type()->tp_alloc(extracted_type(), 0);
        if (u == NULL) {
            return NULL;
        }
        PyObject **slot = &u->input_tokens; /* input, output, cache read, cache write, 1 hour, reasoning, GPU */
        for (int i = 0; i < 7; i++) {
            slot[i] = c->uv[i] != NULL ? c->uv[i] : Py_NewRef(Py_None);
            c->uv[i] = NULL;
        }
        u->response_model = Py_NewRef(Py_None);
        u->response_id = Py_NewRef(Py_None);
        u->source = Py_NewRef(c->u_inline == 2 ? S_estimated : S_provider);
        c->u_inline = 0;
        Py_XSETREF(c->usage, (PyObject *)u);
    }
    return Py_NewRef(c->usage != NULL ? c->usage : Py_None);
}

static int
set_usage_field(CallCore *c, PyObject *value, void *closure)
{
    if (set_field(&c->usage, value) < 0) {
        return -1;
    }
    c->u_inline = 0;
    for (int i = 0; i < 7; i++) {
        Py_CLEAR(c->uv[i]);
    }
    return 0;
}

static PyGetSetDef CallCore_getset[] = {
    {"usage", (getter)get_usage, (setter)set_usage_field, "the usage read or given (an Extracted), or None", NULL},
    {"id", (getter)get_id, (setter)set_id, "the span id (16 hex digits)", NULL},
    {"trace_id", (getter)get_trace_id, (setter)set_trace_id, "the trace id (32 hex digits for a new trace)", NULL},
    {"attrs", (getter)get_attrs, (setter)set_attrs, "attribution and call details, as the line reads them", NULL},
    {NULL},
};

static PyTypeObject CallCoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "llmcost._ccall.CallCore",
    .tp_basicsize = sizeof(CallCore),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The fields, with-block and write of a recorded call (the base of llmcost.Call).",
    .tp_new = CallCore_new,
    .tp_init = (initproc)CallCore_init,
    .tp_dealloc = (destructor)CallCore_dealloc,
    .tp_traverse = (traverseproc)CallCore_traverse,
    .tp_clear = (inquiry)CallCore_clear,
    .tp_methods = CallCore_methods,
    .tp_members = CallCore_members,
    .tp_getset = CallCore_getset,
};

/* ---------------------------------------------------------------------------------------------------------------- */
/* Tracker.trace                                                                                                     */

static PyObject *call_cls;      /* llmcost.Call */
static PyObject *scopes_var;    /* the ContextVar of the open scopes (_scope._scopes) */
static PyObject *trace_py;      /* Tracker.trace as written in Python: every case but the common one */


/* trace(model=None, provider=None, **more): the common case (a model and a provider, no scope open, no budget)
 * here; anything else in Tracker.trace's Python body. */
static PyObject *
tracker_trace(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *model = nargs > 0 ? args[0] : Py_None, *provider = nargs > 1 ? args[1] : Py_None;
    int common = call_cls != NULL && nargs <= 2;
    Py_ssize_t nk = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nk && common; k++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, k);
        if (name == K_model && nargs < 1) {
            model = args[nargs + k];
        }
        else if (name == K_provider && nargs < 2) {
            provider = args[nargs + k];
        }
        else {
            common = 0;
        }
    }
    PyObject *scopes = NULL, *td = NULL, *defaults = NULL;
    if (common && self == ts_cache.tracker && ts_cache.defaults != NULL) { /* what the last call read */
        if (PyContextVar_Get(scopes_var, NULL, &scopes) < 0) {
            goto fail;
        }
        defaults = ts_cache.defaults;
        common = scopes == NULL || (PyTuple_CheckExact(scopes) && PyTuple_GET_SIZE(scopes) == 0);
    }
    else if (common) {
        if (PyContextVar_Get(scopes_var, NULL, &scopes) < 0 || (td = dict_of(self)) == NULL) {
            goto fail;
        }
        PyObject *budgets = dget(td, A_budgets);
        defaults = dget(td, A_defaults);
        common = budgets != NULL && PyTuple_CheckExact(budgets) && PyTuple_GET_SIZE(budgets) == 0 &&
                 defaults != NULL && PyDict_CheckExact(defaults) && dget(defaults, S_hint) == NULL &&
                 (scopes == NULL || (PyTuple_CheckExact(scopes) && PyTuple_GET_SIZE(scopes) == 0));
    }
    Py_XINCREF(defaults); /* held: the cache may let go of it while the call is set up */
    if (!common) {
        Py_XDECREF(scopes);
        Py_XDECREF(td);
        Py_XDECREF(defaults);
        /* Tracker.trace(self, *args, **kwargs), as written in Python */
        PyObject *small[8];
        PyObject **full = small;
        Py_ssize_t total = nargs + nk;
        if (total + 1 > 8 && (full = PyMem_Malloc((size_t)(total + 1) * sizeof(PyObject *))) == NULL) {
            return PyErr_NoMemory();
        }
        full[0] = self;
        for (Py_ssize_t i = 0; i < total; i++) {
            full[i + 1] = args[i];
        }
        PyObject *r = PyObject_Vectorcall(trace_py, full, (size_t)(nargs + 1), kwnames);
        if (full != small) {
            PyMem_Free(full);
        }
        return r;
    }
    if (scopes == NULL) {
        scopes = PyTuple_New(0);
        if (scopes == NULL) {
            goto fail;
        }
    }
    CallCore *call = (CallCore *)CallCore_new((PyTypeObject *)call_cls, NULL, NULL);
    if (call == NULL || call_setup(call, self, model, provider, NULL, defaults, scopes) < 0) {
        Py_XDECREF(call);
        goto fail;
    }
    Py_DECREF(scopes);
    Py_XDECREF(td);
    Py_DECREF(defaults);
    return (PyObject *)call;
fail:
    Py_XDECREF(scopes);
    Py_XDECREF(td);
    Py_XDECREF(defaults);
    return NULL;
}

static PyMethodDef trace_def = {"trace", (PyCFunction)(void (*)(void))tracker_trace, METH_FASTCALL | METH_KEYWORDS,
                                NULL};

/* ---------------------------------------------------------------------------------------------------------------- */
/* Reading usage from response objects: llmcost._usage.get and _int                                                  */

static PyObject *A_dict, *A_pydantic_fields, *A_pydantic_extra, *A_get;

/* None for an Exception (the Python function catches those), the error passed on for anything else. */
static PyObject *
none_unless_fatal(void)
{
    if (PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return NULL;
}

static PyObject *
usage_get(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "get() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *obj = args[0], *name = args[1];
    if (obj == Py_None) {
        Py_RETURN_NONE;
    }
    if (PyDict_CheckExact(obj)) {
        PyObject *v = PyDict_GetItemWithError(obj, name);
        if (v != NULL) {
            return Py_NewRef(v);
        }
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    PyObject *fields = PyObject_GetAttr(obj, A_dict);
    if (fields == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return none_unless_fatal();
        }
        PyErr_Clear();
    }
    else if (fields != Py_None) {
        PyObject *v = NULL;
        if (PyDict_Check(fields)) {
            v = PyDict_GetItemWithError(fields, name);
            Py_XINCREF(v);
        }
        else {
            int has = PySequence_Contains(fields, name);
            v = has > 0 ? PyObject_GetItem(fields, name) : NULL;
        }
        Py_DECREF(fields);
        if (v != NULL) {
            return v;
        }
        if (PyErr_Occurred()) {
            return none_unless_fatal();
        }
    }
    else {
        Py_DECREF(fields);
    }
    int pydantic = has_attr((PyObject *)Py_TYPE(obj), A_pydantic_fields);
    if (pydantic < 0) {
        return none_unless_fatal();
    }
    if (pydantic) {
        PyObject *extra = PyObject_GetAttr(obj, A_pydantic_extra);
        if (extra == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                return none_unless_fatal();
            }
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        int truth = PyObject_IsTrue(extra);
        PyObject *v = truth > 0 ? PyObject_CallMethodOneArg(extra, A_get, name) : NULL;
        Py_DECREF(extra);
        if (truth < 0 || (truth > 0 && v == NULL)) {
            return none_unless_fatal();
        }
        return v != NULL ? v : Py_NewRef(Py_None);
    }
    if (PyDict_Check(obj)) {
        PyObject *v = PyObject_CallMethodOneArg(obj, A_get, name);
        return v != NULL ? v : none_unless_fatal();
    }
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        return none_unless_fatal();
    }
    return v;
}

static PyObject *
usage_int(PyObject *mod, PyObject *v)
{
    if (v == Py_None || PyBool_Check(v)) {
        Py_RETURN_NONE;
    }
    if (PyLong_Check(v)) {
        return Py_NewRef(v);
    }
    if (PyFloat_Check(v)) {
        double d = PyFloat_AsDouble(v);
        if (d == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        if (isfinite(d) && floor(d) == d) {
            return PyLong_FromDouble(d);
        }
    }
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* extract: usage, model and id of a response, as llmcost._usage.extract reads them                                */
/* The common shapes (a response with a ``usage`` of the OpenAI chat, OpenAI Responses or Anthropic kind) are read
 * here, with the rules of _fill, extract_usage, _openai_chat, _inclusive and _anthropic; anything else (no usage:
 * Ollama, usage_metadata, a bare usage; Gemini counts) is handed to those Python functions. */

static PyObject *py_extract; /* llmcost._usage._extract_py */
static PyObject *py_google;  /* llmcost._usage._google */
static PyObject *U_model, *U_id, *U_usage, *U_prompt, *U_completion, *U_prompt_details, *U_completion_details,
    *U_cached, *U_cache_write_tokens, *U_cache_creation_tokens, *U_cache_read_input, *U_cache_creation_input,
    *U_reasoning_tokens, *U_input, *U_output, *U_input_details, *U_output_details, *U_cache_creation,
    *U_ephemeral_1h, *U_thinking, *U_prompt_count, *S_anthropic, *A_odd_response;

/* get(obj, name): a new reference, or NULL with an error that is not an Exception */
static PyObject *
G(PyObject *obj, PyObject *name)
{
    PyObject *args[2] = {obj, name};
    return usage_get(NULL, args, 2);
}

/* _int(get(obj, name)) */
static PyObject *
GI(PyObject *obj, PyObject *name)
{
    PyObject *v = G(obj, name);
    if (v == NULL) {
        return NULL;
    }
    PyObject *r = usage_int(NULL, v);
    Py_DECREF(v);
    return r;
}

/* get(obj, name) is not None: 1, 0, or -1 */
static int
G_set(PyObject *obj, PyObject *name)
{
    PyObject *v = G(obj, name);
    if (v == NULL) {
        return -1;
    }
    int r = v != Py_None;
    Py_DECREF(v);
    return r;
}

/* get(get(obj, outer), inner) as an int */
static PyObject *
GGI(PyObject *obj, PyObject *outer, PyObject *inner)
{
    PyObject *mid = G(obj, outer);
    if (mid == NULL) {
        return NULL;
    }
    PyObject *r = GI(mid, inner);
    Py_DECREF(mid);
    return r;
}

/* a if a is not None else (b() ...): the first count that is not None of those given, or None. Steals them all. */
static PyObject *
first_set(PyObject *a, PyObject *b)
{
    if (a == NULL || b == NULL) {
        Py_XDECREF(a);
        Py_XDECREF(b);
        return NULL;
    }
    if (a != Py_None) {
        Py_DECREF(b);
        return a;
    }
    Py_DECREF(a);
    return b;
}

/* The counts of an Extracted, set together (each stolen; NULL in any: -1 and all released). */
static int
set_counts(Usage *out, PyObject *in, PyObject *outp, PyObject *cr, PyObject *cw, PyObject *cw1h, PyObject *rs)
{
    PyObject *v[6] = {in, outp, cr, cw, cw1h, rs};
    int ok = 1;
    for (int i = 0; i < 6; i++) {
        ok = ok && v[i] != NULL;
    }
    if (!ok) {
        for (int i = 0; i < 6; i++) {
            Py_XDECREF(v[i]);
        }
        return -1;
    }
    Py_SETREF(out->input_tokens, in);
    Py_SETREF(out->output_tokens, outp);
    Py_SETREF(out->cache_read, cr);
    Py_SETREF(out->cache_write, cw);
    Py_SETREF(out->cache_write_1h, cw1h);
    Py_SETREF(out->reasoning, rs);
    Py_SETREF(out->source, Py_NewRef(S_provider));
    return 0;
}

static int
fill_openai_chat(Usage *out, PyObject *u)
{
    PyObject *pd = G(u, U_prompt_details);
    PyObject *cd = pd == NULL ? NULL : G(u, U_completion_details);
    if (cd == NULL) {
        Py_XDECREF(pd);
        return -1;
    }
    PyObject *in = GI(u, U_prompt), *outp = in == NULL ? NULL : GI(u, U_completion);
    PyObject *cr = outp == NULL ? NULL : GI(pd, U_cached);
    if (cr == Py_None) { /* LiteLLM also puts it at the top level */
        cr = first_set(cr, GI(u, U_cache_read_input));
    }
    PyObject *cw = cr == NULL ? NULL : GI(pd, U_cache_write_tokens);
    if (cw == Py_None) {
        cw = first_set(cw, GI(pd, U_cache_creation_tokens));
    }
    if (cw == Py_None) {
        cw = first_set(cw, GI(u, U_cache_creation_input));
    }
    PyObject *rs = cw == NULL ? NULL : GI(cd, U_reasoning_tokens);
    Py_DECREF(pd);
    Py_DECREF(cd);
    return set_counts(out, in, outp, cr, cw, Py_NewRef(out->cache_write_1h), rs);
}

/* OpenAI Responses (and any usage already inclusive with input_tokens/output_tokens) */
static int
fill_inclusive(Usage *out, PyObject *u)
{
    PyObject *idt = G(u, U_input_details);
    if (idt == NULL) {
        return -1;
    }
    PyObject *in = GI(u, U_input), *outp = in == NULL ? NULL : GI(u, U_output);
    PyObject *cr = outp == NULL ? NULL : GI(idt, U_cached);
    PyObject *cw = cr == NULL ? NULL : GI(idt, U_cache_write_tokens);
    PyObject *rs = cw == NULL ? NULL : GGI(u, U_output_details, U_reasoning_tokens);
    if (rs != NULL && cr == Py_None) {
        cr = first_set(cr, GI(u, U_cache_read_input));
    }
    Py_DECREF(idt);
    return set_counts(out, in, outp, cr, cw, Py_NewRef(out->cache_write_1h), rs);
}

static int
fill_anthropic(Usage *out, PyObject *u)
{
    PyObject *base = GI(u, U_input), *read = base == NULL ? NULL : GI(u, U_cache_read_input);
    PyObject *write = read == NULL ? NULL : GI(u, U_cache_creation_input);
    PyObject *in = NULL;
    if (write != NULL) {
        if (base == Py_None) {
            in = Py_NewRef(Py_None);
        }
        else { /* base + (read or 0) + (write or 0) */
            PyObject *zero = PyLong_FromLong(0);
            PyObject *r = zero == NULL ? NULL : PyNumber_Add(base, read == Py_None ? zero : read);
            in = r == NULL ? NULL : PyNumber_Add(r, write == Py_None ? zero : write);
            Py_XDECREF(r);
            Py_XDECREF(zero);
        }
    }
    Py_XDECREF(base);
    PyObject *outp = in == NULL ? NULL : GI(u, U_output);
    PyObject *cw1h = outp == NULL ? NULL : GGI(u, U_cache_creation, U_ephemeral_1h);
    PyObject *rs = cw1h == NULL ? NULL : GGI(u, U_output_details, U_thinking);
    if (rs == NULL) {
        Py_XDECREF(in);
        Py_XDECREF(outp);
        Py_XDECREF(cw1h);
        Py_XDECREF(read);
        Py_XDECREF(write);
        return -1;
    }
    return set_counts(out, in, outp, read, write, cw1h, rs);
}

/* extract_usage(u, hint, into=out): 0, or -1 with an error set */
static int
fill_usage(Usage *out, PyObject *u, PyObject *hint)
{
    int chat = G_set(u, U_prompt);
    if (chat == 0) {
        chat = G_set(u, U_completion);
    }
    if (chat < 0) {
        return -1;
    }
    if (chat) {
        return fill_openai_chat(out, u);
    }
    int inclusive = G_set(u, U_input);
    if (inclusive == 0) {
        inclusive = G_set(u, U_output);
    }
    if (inclusive < 0) {
        return -1;
    }
    if (inclusive) {
        int anthropic = hint == S_anthropic ? 1 : PyObject_RichCompareBool(hint, S_anthropic, Py_EQ);
        if (anthropic == 0) {
            int details = G_set(u, U_input_details);
            if (details == 0) {
                anthropic = G_set(u, U_cache_read_input);
                if (anthropic == 0) {
                    anthropic = G_set(u, U_cache_creation_input);
                }
            }
            else if (details < 0) {
                return -1;
            }
        }
        if (anthropic < 0) {
            return -1;
        }
        return anthropic ? fill_anthropic(out, u) : fill_inclusive(out, u);
    }
    int google = G_set(u, U_prompt_count);
    if (google <= 0) {
        return google;
    }
    PyObject *r = PyObject_CallFunctionObjArgs(py_google, (PyObject *)out, u, NULL);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

static PyObject *
new_extracted(void)
{
    return Usage_new(extracted_type(), NULL, NULL);
}

/* extract(response, hint): an Extracted; never raises an Exception (an odd object gives source "error"). */
static PyObject *
c_extract(PyObject *response, PyObject *hint)
{
    if (response == Py_None) {
        return new_extracted();
    }
    PyObject *usage = G(response, U_usage);
    if (usage == NULL) {
        return NULL;
    }
    if (usage == Py_None || py_extract == NULL) { /* Ollama, usage_metadata, a bare usage: the Python rules */
        Py_DECREF(usage);
        return py_extract == NULL ? new_extracted() : PyObject_CallFunctionObjArgs(py_extract, response, hint, NULL);
    }
    Usage *out = (Usage *)new_extracted();
    PyObject *model = out == NULL ? NULL : G(response, U_model);
    PyObject *rid = model == NULL ? NULL : G(response, U_id);
    int rc = rid == NULL ? -1 : 0;
    if (rc == 0) {
        Py_SETREF(out->response_model, PyUnicode_Check(model) ? Py_NewRef(model) : Py_NewRef(Py_None));
        Py_SETREF(out->response_id, PyUnicode_Check(rid) ? Py_NewRef(rid) : Py_NewRef(Py_None));
        rc = fill_usage(out, usage, hint);
    }
    Py_XDECREF(model);
    Py_XDECREF(rid);
    Py_DECREF(usage);
    if (rc == 0) {
        return (PyObject *)out;
    }
    Py_XDECREF(out);
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return NULL;
    }
    PyErr_Clear(); /* an odd object: the caller counts it, the user's call goes on */
    Usage *odd = (Usage *)new_extracted();
    if (odd != NULL) {
        Py_SETREF(odd->source, Py_NewRef(S_error));
    }
    return (PyObject *)odd;
}

static PyObject *
mod_extract(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "extract() takes 1 or 2 arguments (%zd given)", nargs);
        return NULL;
    }
    return c_extract(args[0], nargs > 1 ? args[1] : Py_None);
}

static PyObject *
mod_setup_usage(PyObject *mod, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"extracted", "extract", "google", NULL};
    PyObject *extracted, *extract, *google;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OO:setup_usage", names, &PyType_Type, &extracted, &extract,
                                     &google)) {
        return NULL;
    }
    if (!PyType_IsSubtype((PyTypeObject *)extracted, &UsageType) ||
        ((PyTypeObject *)extracted)->tp_basicsize != UsageType.tp_basicsize) {
        PyErr_SetString(PyExc_TypeError, "extracted must subclass Usage with no fields of its own");
        return NULL;
    }
    Py_XSETREF(extracted_cls, (PyTypeObject *)Py_NewRef(extracted));
    Py_XSETREF(py_extract, Py_NewRef(extract));
    Py_XSETREF(py_google, Py_NewRef(google));
    Py_RETURN_NONE;
}

/* Call.record(response): read usage, model and id; returns response unchanged. */
static PyObject *
CallCore_record(CallCore *self, PyObject *response)
{
    PyObject *usage = c_extract(response, self->hint);
    if (usage == NULL) {
        return NULL;
    }
    Usage *u = (Usage *)usage;
    if (PyUnicode_Check(u->source) && (PyUnicode_CompareWithASCIIString(u->source, "none") == 0 ||
                                       PyUnicode_CompareWithASCIIString(u->source, "error") == 0)) {
        PyObject *name = PyObject_GetAttr((PyObject *)Py_TYPE(response), A_name);
        PyObject *message = name == NULL ? NULL
                                         : PyUnicode_FromFormat("llmcost: no usage found in a %S response", name);
        PyObject *r = message == NULL ? NULL
                                      : PyObject_CallMethodObjArgs(self->tracker, A_count, A_odd_response, message,
                                                                   NULL);
        Py_XDECREF(name);
        Py_XDECREF(message);
        if (r == NULL) {
            Py_DECREF(usage);
            return NULL;
        }
        Py_DECREF(r);
    }
    int has_model = PyObject_IsTrue(u->response_model), has_id = has_model < 0 ? -1 : PyObject_IsTrue(u->response_id);
    if (has_id < 0) {
        Py_DECREF(usage);
        return NULL;
    }
    if (has_model) {
        Py_SETREF(self->response_model, Py_NewRef(u->response_model));
    }
    if (has_id) {
        Py_SETREF(self->response_id, Py_NewRef(u->response_id));
    }
    self->u_inline = 0;
    for (int i = 0; i < 7; i++) {
        Py_CLEAR(self->uv[i]);
    }
    Py_XSETREF(self->usage, usage);
    return Py_NewRef(response);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Module                                                                                                            */

static PyObject *
mod_setup(PyObject *mod, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"tracker",    "file_writer",   "writer_globals", "to_decimal", "call",
                            "scopes_var", "call_defaults", "add_to_scopes",  NULL};
    PyObject *tracker, *file_writer, *globals, *decimal, *call, *scopes, *dflt, *add;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!OO!OO!O:setup", names, &PyType_Type, &tracker, &PyType_Type,
                                     &file_writer, &PyDict_Type, &globals, &decimal, &PyType_Type, &call, &scopes,
                                     &PyDict_Type, &dflt, &add)) {
        return NULL;
    }
    if (!PyType_IsSubtype((PyTypeObject *)call, &CallCoreType) || !PyContextVar_CheckExact(scopes)) {
        PyErr_SetString(PyExc_TypeError, "call must subclass CallCore, and scopes_var be a ContextVar");
        return NULL;
    }
    PyObject *python_trace = PyObject_GetAttrString(tracker, "trace");
    if (python_trace == NULL) {
        return NULL;
    }
    if (!PyFunction_Check(python_trace)) { /* set up twice: keep the Python function found the first time */
        Py_DECREF(python_trace);
        python_trace = Py_NewRef(trace_py);
    }
    static PyMethodDef def;
    def = trace_def;
    def.ml_doc = NULL;
    PyObject *doc = PyObject_GetAttrString(python_trace, "__doc__");
    if (doc != NULL && PyUnicode_Check(doc)) {
        static char *kept_doc;
        const char *text = PyUnicode_AsUTF8(doc);
        if (text != NULL && kept_doc == NULL && (kept_doc = PyMem_RawMalloc(strlen(text) + 1)) != NULL) {
            strcpy(kept_doc, text);
        }
        def.ml_doc = kept_doc;
    }
    Py_XDECREF(doc);
    PyErr_Clear();
    PyObject *method = PyDescr_NewMethod((PyTypeObject *)tracker, &def);
    if (method == NULL || PyObject_SetAttrString(tracker, "trace", method) < 0) {
        Py_XDECREF(method);
        Py_DECREF(python_trace);
        return NULL;
    }
    Py_DECREF(method);
    Py_XSETREF(trace_py, python_trace);
    Py_XSETREF(tracker_cls, Py_NewRef(tracker));
    Py_XSETREF(file_writer_cls, Py_NewRef(file_writer));
    Py_XSETREF(writer_globals, Py_NewRef(globals));
    Py_XSETREF(to_decimal, Py_NewRef(decimal));
    Py_XSETREF(py_add_to_scopes, Py_NewRef(add));
    Py_XSETREF(call_cls, Py_NewRef(call));
    Py_XSETREF(scopes_var, Py_NewRef(scopes));
    PyObject **cd[] = {&cd_source, &cd_operation, &cd_server, &cd_stream, &cd_attempt, &cd_fallback, &cd_gpus};
    PyObject *cd_keys[] = {K_source, K_operation, K_server, K_stream, K_attempt, K_fallback, K_gpus};
    if (PyDict_GET_SIZE(dflt) != 7) {
        PyErr_SetString(PyExc_ValueError, "call_defaults must hold the seven keys trace() sets");
        return NULL;
    }
    for (int i = 0; i < 7; i++) {
        PyObject *v = PyDict_GetItemWithError(dflt, cd_keys[i]);
        if (v == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_ValueError, "call_defaults lacks %R", cd_keys[i]);
            }
            return NULL;
        }
        Py_XSETREF(*cd[i], Py_NewRef(v));
    }
    Py_XSETREF(call_defaults, Py_NewRef(dflt));
    Py_RETURN_NONE;
}

static PyObject *
mod_set_fast(PyObject *mod, PyObject *flag)
{
    int t = PyObject_IsTrue(flag);
    if (t < 0) {
        return NULL;
    }
    int before = fast_enabled;
    fast_enabled = t;
    return PyBool_FromLong(before);
}

/* The callback of the weak references to the tracker and the writer kept: forget what went. */
static PyObject *
mod_forget_dead(PyObject *mod, PyObject *ref)
{
    if (ref == ts_cache.ref) {
        forget_tracker();
        Py_CLEAR(hit_plans); /* the memo of the tracker that went */
        Py_CLEAR(hit_model);
        Py_CLEAR(hit_provider);
        Py_CLEAR(hit_entry);
    }
    if (ref == direct_ref) {
        forget_direct();
    }
    Py_RETURN_NONE;
}

static PyMethodDef forget_dead_def = {"_forget_dead", mod_forget_dead, METH_O, NULL};

static PyObject *
mod_forget_tracker(PyObject *mod, PyObject *tracker)
{
    if (tracker == ts_cache.tracker || tracker == Py_None) {
        forget_tracker();
    }
    Py_RETURN_NONE;
}

static PyObject *
mod_pending(PyObject *mod, PyObject *writer)
{
    return PyLong_FromSsize_t(writer == direct_writer ? direct_written : 0);
}

static PyObject *
mod_forget(PyObject *mod, PyObject *writer)
{
    if (writer == direct_writer || writer == Py_None) {
        forget_direct();
    }
    Py_RETURN_NONE;
}

static PyObject *
mod_reseed(PyObject *mod, PyObject *noargs)
{
    if (reseed() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
mod_format_float(PyObject *mod, PyObject *v)
{
    double d = PyFloat_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    Buf b;
    buf_init(&b);
    int r = put_double(&b, d);
    PyObject *out = r == TAKEN ? PyBytes_FromStringAndSize(b.p, (Py_ssize_t)b.len) : NULL;
    buf_free(&b);
    if (r == NOT_TAKEN) {
        Py_RETURN_NONE;
    }
    return out;
}

static PyObject *
mod_format_scaled(PyObject *mod, PyObject *args)
{
    long long n;
    int scale;
    if (!PyArg_ParseTuple(args, "Li:format_scaled", &n, &scale)) {
        return NULL;
    }
    if (n < 0 || n >= 1000000000000000LL) {
        PyErr_SetString(PyExc_ValueError, "n must be in [0, 10**15)");
        return NULL;
    }
    Buf b;
    buf_init(&b);
    int r = put_scaled(&b, n, scale);
    PyObject *out = r == TAKEN ? PyBytes_FromStringAndSize(b.p, (Py_ssize_t)b.len) : NULL;
    buf_free(&b);
    return out;
}

static PyMethodDef module_methods[] = {
    {"setup", (PyCFunction)(void (*)(void))mod_setup, METH_VARARGS | METH_KEYWORDS,
     "Hand over the Python classes the fast path builds or recognises; Tracker.trace becomes the compiled one "
     "(which hands every case but the common one to the Python body)."},
    {"set_fast", mod_set_fast, METH_O, "Turn the fast path on or off (tests compare both ways); returns the old value."},
    {"reseed", mod_reseed, METH_NOARGS, "Draw new random id prefixes (in a forked child)."},
    {"forget_tracker", mod_forget_tracker, METH_O,
     "Tracker.__setattr__ calls this: the next call reads the tracker's state again."},
    {"pending", mod_pending, METH_O, "Lines written straight to this writer's file not yet in its _written."},
    {"forget", mod_forget, METH_O,
     "FileWriter calls this before it closes or replaces its descriptor: the next line checks its state again."},
    {"extract", (PyCFunction)(void (*)(void))mod_extract, METH_FASTCALL,
     "extract(response, hint=None)\n--\n\nUsage, model and id of ``response`` (llmcost._usage.extract)."},
    {"setup_usage", (PyCFunction)(void (*)(void))mod_setup_usage, METH_VARARGS | METH_KEYWORDS,
     "Hand over Extracted and the Python extract and _google, for the shapes extract leaves to them."},
    {"get", (PyCFunction)(void (*)(void))usage_get, METH_FASTCALL,
     "get(obj, name)\n--\n\n``obj[name]`` for mappings, ``obj.name`` otherwise; ``None`` when absent (llmcost._usage.get)."},
    {"as_int", usage_int, METH_O, "as_int(value)\n--\n\nAn int count, or None (llmcost._usage._int)."},
    {"format_float", mod_format_float, METH_O, "A float as the fast path writes it (tests)."},
    {"format_scaled", mod_format_scaled, METH_VARARGS, "n / 10**scale as the fast path writes it (tests)."},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "llmcost._ccall",
    .m_doc = "The recorder's hot path: a call's fields, with-block, set_usage and line, in C.",
    .m_size = -1,
    .m_methods = module_methods,
};

static int
intern_all(void)
{
#define I(var, text)                                                                                                \
    if ((var = PyUnicode_InternFromString(text)) == NULL) {                                                         \
        return -1;                                                                                                   \
    }
    I(S_ok, "ok") I(S_none, "none") I(S_error, "error") I(S_provider, "provider") I(S_estimated, "estimated")
    I(S_hint, "hint") I(S_vllm, "vllm")
    I(A_set_error, "set_error") I(A_emit, "_emit") I(A_writer, "writer") I(A_stats, "stats") I(A_calls, "calls")
    I(A_sinks, "sinks") I(A_ledger, "_ledger") I(A_call_cost, "call_cost_usd") I(A_gpus, "gpus")
    I(A_plans, "_plans") I(A_plans_until, "_plans_until") I(A_fd, "_fd") I(A_day, "_day") I(A_fork, "_fork")
    I(A_forks, "_forks") I(A_max_bytes, "_max_bytes") I(A_lock, "_lock") I(A_locked, "locked")
    I(A_written, "written") I(A_written_own, "_written") I(A_write_line, "write_line") I(A_drop, "_drop") I(A_count, "_count")
    I(A_pico, "pico") I(A_fee, "fee") I(A_tier_min, "tier_min") I(A_ref, "ref") I(A_trace_id, "trace_id")
    I(A_id, "id") I(A_internal, "internal_errors") I(A_hook_errors, "hook_errors") I(A_name, "__name__")
    I(K_source, "source") I(K_operation, "operation") I(K_server, "server_address") I(K_stream, "stream")
    I(K_attempt, "attempt") I(K_fallback, "fallback_from") I(K_agent, "agent") I(K_session, "session_id")
    I(K_user, "user_id") I(K_workflow, "workflow") I(K_tags, "tags") I(K_metadata, "metadata")
    I(K_phash, "prompt_hash") I(K_gpus, "gpus") I(A_budgets, "budgets") I(A_defaults, "_defaults")
    I(K_model, "model") I(K_provider, "provider") I(A_dict, "__dict__") I(A_pydantic_fields, "__pydantic_fields__")
    I(A_pydantic_extra, "__pydantic_extra__") I(A_get, "get")
    I(U_model, "model") I(U_id, "id") I(U_usage, "usage") I(U_prompt, "prompt_tokens")
    I(U_completion, "completion_tokens") I(U_prompt_details, "prompt_tokens_details")
    I(U_completion_details, "completion_tokens_details") I(U_cached, "cached_tokens")
    I(U_cache_write_tokens, "cache_write_tokens") I(U_cache_creation_tokens, "cache_creation_tokens")
    I(U_cache_read_input, "cache_read_input_tokens") I(U_cache_creation_input, "cache_creation_input_tokens")
    I(U_reasoning_tokens, "reasoning_tokens") I(U_input, "input_tokens") I(U_output, "output_tokens")
    I(U_input_details, "input_tokens_details") I(U_output_details, "output_tokens_details")
    I(U_cache_creation, "cache_creation") I(U_ephemeral_1h, "ephemeral_1h_input_tokens")
    I(U_thinking, "thinking_tokens") I(U_prompt_count, "prompt_token_count") I(S_anthropic, "anthropic")
    I(A_odd_response, "odd_response")
#undef I
    for (int i = 0; i < U_N; i++) {
        if ((U_KEYS[i] = PyUnicode_InternFromString(U_NAMES[i])) == NULL) {
            return -1;
        }
    }
    return 0;
}

PyMODINIT_FUNC
PyInit__ccall(void)
{
    if (intern_all() < 0 || (one = PyLong_FromLong(1)) == NULL) {
        return NULL;
    }
    for (int c = 0; c < 256; c++) {
        PLAIN[c] = c >= 0x20 && c != '"' && c != '\\';
    }
    PyObject *time_mod = PyImport_ImportModule("time");
    PyObject *os_mod = PyImport_ImportModule("os");
    if (time_mod == NULL || os_mod == NULL) {
        Py_XDECREF(time_mod);
        Py_XDECREF(os_mod);
        return NULL;
    }
    py_time = PyObject_GetAttrString(time_mod, "time");
    py_perf = PyObject_GetAttrString(time_mod, "perf_counter");
    py_monotonic = PyObject_GetAttrString(time_mod, "monotonic");
    py_urandom = PyObject_GetAttrString(os_mod, "urandom");
    Py_DECREF(time_mod);
    Py_DECREF(os_mod);
    if (py_time == NULL || py_perf == NULL || py_monotonic == NULL || py_urandom == NULL || reseed() < 0) {
        return NULL;
    }
    span_var = PyContextVar_New("llmcost_span", Py_None);
    if (span_var == NULL || PyType_Ready(&UsageType) < 0 || PyType_Ready(&CallCoreType) < 0 ||
        PyType_Ready(&StatsCoreType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL || (forget_dead = PyCFunction_New(&forget_dead_def, NULL)) == NULL) {
        Py_XDECREF(m);
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "Usage", (PyObject *)&UsageType) < 0 ||
        PyModule_AddObjectRef(m, "CallCore", (PyObject *)&CallCoreType) < 0 ||
        PyModule_AddObjectRef(m, "StatsCore", (PyObject *)&StatsCoreType) < 0 ||
        PyModule_AddObjectRef(m, "span_var", span_var) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
