/* _fastscan: optional C accelerator for dissector.fastpath (see FastPath.filter).
 *
 * It walks consecutive pcapng Enhanced Packet Blocks (or pcap records) of a buffer and
 * counts every packet that FastPath.filter would count through its *caches* (levels 1 and
 * 2 of fastpath.py) into the very same Python entry lists. Level 2 lives in a C-native
 * FlowTable (below) filled from Python's flows dicts, so a packet of a known flow costs no
 * Python object at all; the dict levels remain for a FastPath without a table. At
 * the first record it cannot settle that way (another block type, a failed check, a cache
 * miss, anything unusual) it stops *before* that record and returns, so the Python reader
 * yields it and the Python code handles it (and learns new flows). Classification itself
 * is never done here: the tables (KEY_SPAN, MIN_PAYLOAD, key plans, EXACT_LIMIT) come from
 * Python, so the results are those of the pure-Python path by construction.
 *
 * Never raises on bad bytes: every read is bounds-checked against the buffer; a Python error
 * is only possible for bad *arguments* (or out of memory).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* PyMemberDef, T_OBJECT_EX, READONLY */
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(address) __builtin_prefetch(address)
#else
#define PREFETCH(address) ((void)0)
#endif

#define EPB 6u
#define LINEAR_AHEAD 8192 /* bytes of the buffer prefetched ahead of the walk */
#define TWO53 9007199254740992.0

/* The FastPath state tuple, unpacked once per call. */
typedef struct {
    const unsigned char *spans;   /* KEY_SPAN as 256 bytes */
    const unsigned char *minpay;  /* MIN_PAYLOAD as 256 bytes */
    PyObject *plans;              /* {linktype: (start, ip, need)} */
    PyObject *exact_by_if;        /* {interface: {exact bytes: (least wire length, entry)}} */
    PyObject *flows_by_if;        /* {interface: {flow tuple: entry}} */
    PyObject *dirty, *done;       /* FastPath._dirty, FastPath._done */
    Py_ssize_t exact_limit;
    struct FlowTable *table;      /* C-native flow cache, or NULL (then only the dicts) */
    /* caches for the current interface / link type */
    long long cur_if;
    PyObject *exacts, *flows;     /* borrowed from the dicts above (kept alive by them) */
    long cur_lt;
    int have_plan;
    long start, ip, need;
    Py_ssize_t counted;
    int new_flow; /* the last offer stopped at a flow neither the table nor Python's dict knows */
    /* the next packet's key hash, computed early to prefetch its slot (prefetch_slot) */
    const unsigned char *ahead_key;
    uint64_t ahead_hash;
    long long ahead_if;
    long ahead_lt;
} State;

static PyTypeObject FlowTableType;

static int parse_state(PyObject *tuple, State *st, Py_buffer *spans, Py_buffer *minpay) {
    PyObject *sp, *mp, *table;
    if (!PyArg_ParseTuple(tuple, "OOO!O!O!O!O!nO", &sp, &mp, &PyDict_Type, &st->plans, &PyDict_Type,
                          &st->exact_by_if, &PyDict_Type, &st->flows_by_if, &PyList_Type, &st->dirty,
                          &PyList_Type, &st->done, &st->exact_limit, &table))
        return -1;
    if (table != Py_None && !PyObject_TypeCheck(table, &FlowTableType)) {
        PyErr_SetString(PyExc_TypeError, "the state's table must be a FlowTable or None");
        return -1;
    }
    st->table = table == Py_None ? NULL : (struct FlowTable *)table;
    if (PyObject_GetBuffer(sp, spans, PyBUF_SIMPLE) < 0) return -1;
    if (PyObject_GetBuffer(mp, minpay, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(spans);
        return -1;
    }
    if (spans->len != 256 || minpay->len != 256) {
        PyBuffer_Release(spans);
        PyBuffer_Release(minpay);
        PyErr_SetString(PyExc_ValueError, "span tables must have 256 entries");
        return -1;
    }
    st->spans = spans->buf;
    st->minpay = minpay->buf;
    st->cur_if = -1;
    st->exacts = st->flows = NULL;
    st->cur_lt = -1;
    st->have_plan = 0;
    st->counted = 0;
    st->new_flow = 0;
    st->ahead_key = NULL;
    return 0;
}

static inline uint32_t rd32(const unsigned char *p, int big) {
    return big ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
               : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

static inline unsigned rd16be(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

/* Select the plan of a link type; 0 when it has none (the packet goes to Python). */
static int select_plan(State *st, long linktype) {
    if (linktype == st->cur_lt) return st->have_plan;
    st->cur_lt = linktype;
    st->have_plan = 0;
    PyObject *key = PyLong_FromLong(linktype);
    if (key == NULL) return -1;
    PyObject *plan = PyDict_GetItemWithError(st->plans, key);
    Py_DECREF(key);
    if (plan == NULL) return PyErr_Occurred() ? -1 : 0;
    if (!PyArg_ParseTuple(plan, "lll", &st->start, &st->ip, &st->need)) return -1;
    if (st->start < 0 || st->ip < st->start || st->need < st->ip + 40) return 0;
    st->have_plan = 1;
    return 1;
}

/* Select the caches of an interface; 0 when Python has not made them yet. */
static int select_interface(State *st, long long interface) {
    if (interface == st->cur_if && st->exacts != NULL) return 1;
    st->cur_if = interface;
    PyObject *key = PyLong_FromLongLong(interface);
    if (key == NULL) return -1;
    st->exacts = PyDict_GetItemWithError(st->exact_by_if, key);
    st->flows = st->exacts ? PyDict_GetItemWithError(st->flows_by_if, key) : NULL;
    Py_DECREF(key);
    if (PyErr_Occurred()) return -1;
    if (st->exacts == NULL || st->flows == NULL || !PyDict_CheckExact(st->exacts) ||
        !PyDict_CheckExact(st->flows)) {
        st->exacts = NULL;
        return 0;
    }
    return 1;
}

static inline int set_item(PyObject *list, Py_ssize_t i, PyObject *value) {
    if (value == NULL) return -1;
    PyList_SET_ITEM(list, i, value); /* steals value */
    return 0;
}

/* Count one packet into an entry: FastPath.filter's "hit" and inlined _roll. 1 done, 0 not
 * countable here (Python decides), -1 error. Nothing is changed when it returns 0. */
static int count(State *st, PyObject *entry, double time, uint32_t wire_length) {
    if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != 7) return 0;
    if (!(time > -9.2e18 && time < 9.2e18)) return 0;
    long long second = (long long)time; /* int(time): truncation */
    int overflow;
    long long current = PyLong_AsLongLongAndOverflow(PyList_GET_ITEM(entry, 6), &overflow);
    if (current == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    PyObject *old[4] = {PyList_GET_ITEM(entry, 0), PyList_GET_ITEM(entry, 1), PyList_GET_ITEM(entry, 3), NULL};
    if (!overflow && current == second) {
        long long packets = PyLong_AsLongLongAndOverflow(old[0], &overflow);
        if (overflow || (packets == -1 && PyErr_Occurred()) || packets >= LLONG_MAX - 1) goto not_here;
        long long bytes = PyLong_AsLongLongAndOverflow(old[1], &overflow);
        if (overflow || (bytes == -1 && PyErr_Occurred()) || bytes >= LLONG_MAX - (long long)UINT32_MAX)
            goto not_here;
        PyObject *p = PyLong_FromLongLong(packets + 1), *b = PyLong_FromLongLong(bytes + wire_length);
        if (p == NULL || b == NULL) {
            Py_XDECREF(p);
            Py_XDECREF(b);
            return -1;
        }
        PyList_SET_ITEM(entry, 0, p);
        PyList_SET_ITEM(entry, 1, b);
        Py_DECREF(old[0]);
        Py_DECREF(old[1]);
        if (Py_REFCNT(old[2]) == 1 && PyFloat_CheckExact(old[2])) {
            /* entry[3] = time: the old float is the entry's alone (nothing can tell), reuse it */
            ((PyFloatObject *)old[2])->ob_fval = time;
        } else {
            PyObject *t = PyFloat_FromDouble(time);
            if (t == NULL) return -1;
            PyList_SET_ITEM(entry, 3, t);
            Py_DECREF(old[2]);
        }
    } else {
        int truth = PyObject_IsTrue(old[0]);
        if (truth < 0) return -1;
        if (truth) { /* an earlier second still unflushed: keep its counts aside */
            PyObject *snapshot = PyList_AsTuple(entry);
            if (snapshot == NULL) return -1;
            PyObject_GC_UnTrack(snapshot); /* numbers and an immutable key: no cycle possible */
            int failed = PyList_Append(st->done, snapshot);
            Py_DECREF(snapshot);
            if (failed) return -1;
        } else if (PyList_Append(st->dirty, entry)) {
            return -1;
        }
        PyObject *t = PyFloat_FromDouble(time);
        if (t == NULL) return -1;
        PyObject *olds[5] = {PyList_GET_ITEM(entry, 0), PyList_GET_ITEM(entry, 1), PyList_GET_ITEM(entry, 2),
                             PyList_GET_ITEM(entry, 3), PyList_GET_ITEM(entry, 6)};
        int bad = set_item(entry, 0, PyLong_FromLong(1)) | set_item(entry, 1, PyLong_FromUnsignedLong(wire_length));
        bad |= set_item(entry, 6, PyLong_FromLongLong(second));
        Py_INCREF(t);
        PyList_SET_ITEM(entry, 2, t);
        PyList_SET_ITEM(entry, 3, t);
        if (bad) { /* out of memory: leave the entry consistent before failing */
            return -1;
        }
        for (int i = 0; i < 5; i++) Py_DECREF(olds[i]);
    }
    st->counted++;
    return 1;
not_here:
    PyErr_Clear();
    return 0;
}

/* A tuple of byte strings cut from key: (offset, length) pairs. Untracked by the GC (bytes
 * only, as CPython would find at its next collection anyway). */
static PyObject *bytes_tuple(const unsigned char *key, int n, const long *cuts) {
    PyObject *tuple = PyTuple_New(n);
    if (tuple == NULL) return NULL;
    PyObject_GC_UnTrack(tuple);
    for (int i = 0; i < n; i++) {
        PyObject *part = PyBytes_FromStringAndSize((const char *)key + cuts[2 * i], cuts[2 * i + 1]);
        if (part == NULL) {
            Py_DECREF(tuple);
            return NULL;
        }
        PyTuple_SET_ITEM(tuple, i, part);
    }
    return tuple;
}

/* Level 2: the flow key without its length fields (KeyPlan.unpackers) and its checks;
 * Py_None (borrowed) when the lengths disagree, NULL on error. */
static PyObject *flow_key(State *st, const unsigned char *key, int nh, long *plen_out) {
    long prefix = st->ip - st->start + 4;
    long span = st->spans[nh];
    long plen = rd16be(key + prefix);
    *plen_out = plen;
    if (nh == 41) { /* prefix, plen, 38 bytes, inner plen, 34 bytes: "!{prefix}sH38sH34s" */
        long inner = rd16be(key + prefix + 40);
        if (inner + 40 != plen) return Py_None;
        const long cuts[6] = {0, prefix, prefix + 2, 38, prefix + 42, 34};
        return bytes_tuple(key, 3, cuts);
    }
    if (plen < st->minpay[nh]) return Py_None;
    const long cuts[4] = {0, prefix, prefix + 2, span - 6}; /* "!{prefix}sH{span - 6}s" */
    return bytes_tuple(key, 2, cuts);
}

/* The dict levels (exact bytes, then the flow tuple) for one packet: 1 counted, 0 for
 * Python, -1 error. */
static int offer_dicts(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                 long long interface, long linktype, double time) {
    int ok = select_plan(st, linktype);
    if (ok <= 0) return ok;
    if ((long)caplen < st->need) return 0;
    int nh = frame[st->ip + 6];
    long span = st->spans[nh];
    if (!span || (long)caplen < st->ip + span) return 0;
    ok = select_interface(st, interface);
    if (ok <= 0) return ok;
    const unsigned char *key = frame + st->start;
    PyObject *exact = PyBytes_FromStringAndSize((const char *)key, st->ip + span - st->start);
    if (exact == NULL) return -1;
    PyObject *hit = PyDict_GetItemWithError(st->exacts, exact);
    PyObject *entry = NULL;
    int result = 0;
    if (hit != NULL && PyTuple_CheckExact(hit) && PyTuple_GET_SIZE(hit) == 2) {
        long long least = PyLong_AsLongLong(PyTuple_GET_ITEM(hit, 0));
        if (least == -1 && PyErr_Occurred()) PyErr_Clear();
        else if ((long long)wire_length >= least) entry = PyTuple_GET_ITEM(hit, 1);
    }
    if (PyErr_Occurred()) goto failed;
    if (entry != NULL) {
        Py_INCREF(entry);
    } else {
        long plen;
        PyObject *flow = flow_key(st, key, nh, &plen);
        if (flow == NULL) goto failed;
        if (flow == Py_None || (long)wire_length < st->need + plen) {
            if (flow != Py_None) Py_DECREF(flow);
            Py_DECREF(exact);
            return 0;
        }
        entry = PyDict_GetItemWithError(st->flows, flow);
        Py_DECREF(flow);
        if (entry == NULL) {
            Py_DECREF(exact);
            return PyErr_Occurred() ? -1 : 0;
        }
        if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != 7) {
            Py_DECREF(exact);
            return 0;
        }
        Py_INCREF(entry);
        if (PyDict_GET_SIZE(st->exacts) >= st->exact_limit) PyDict_Clear(st->exacts);
        /* (least wire length, entry), untracked: the entry never refers back to it, and these
         * tuples come and go by the hundred thousand (tracked, they drive full collections) */
        PyObject *least = PyLong_FromLong(st->need + plen);
        PyObject *value = least ? PyTuple_New(2) : NULL;
        if (value != NULL) {
            PyObject_GC_UnTrack(value);
            PyTuple_SET_ITEM(value, 0, least);
            Py_INCREF(entry);
            PyTuple_SET_ITEM(value, 1, entry);
        } else {
            Py_XDECREF(least);
        }
        if (value == NULL || PyDict_SetItem(st->exacts, exact, value) < 0) {
            Py_XDECREF(value);
            Py_DECREF(entry);
            goto failed;
        }
        Py_DECREF(value);
    }
    result = count(st, entry, time, wire_length);
    Py_DECREF(entry);
    Py_DECREF(exact);
    return result;
failed:
    Py_DECREF(exact);
    return -1;
}

/* ------------------------------------------------------------------ the C flow table
 *
 * Level 2 without Python objects: the flow bytes (the exact span without its length
 * fields, i.e. the bytes of FastPath's flow tuple, concatenated) of an interface and link
 * type -> a strong reference to the flow's entry list, plus the packets counted into it
 * that Python has not seen yet ("pending": packets, bytes, last time). A slot is filled on
 * a table miss whose flow Python's flows dict knows. Pending counts are written into the
 * entry when its second changes (then the roll is done on the Python objects, as count()
 * does) and for every slot before the walk returns to Python: between calls the table holds
 * nothing Python could miss. Results therefore do not depend on what the table holds: a
 * stale slot (a flow Python's dict has forgotten) counts into an entry of the same flow,
 * hence the same canonical key, and flush() merges rows per canonical key. */

#define FLOW_KEY_MAX 120 /* longest flow key kept here (longer ones take the dict path) */
#define PROBE_LIMIT 16   /* slots probed at most; an insert that finds none grows the table */
#define TABLE_START 8 /* slots at first (a power of two): it grows as flows come */

typedef struct {
    uint64_t hash; /* 0: empty */
    PyObject *entry;
    long long interface;
    long linktype;
    long long second; /* entry[6] as read at this call's first use (epoch) */
    uint64_t packets, bytes; /* pending */
    double last;
    uint32_t epoch;
    uint16_t keylen;
    uint8_t touched; /* listed in FlowTable.touched */
    unsigned char key[FLOW_KEY_MAX];
} Slot;

typedef struct FlowTable {
    PyObject_HEAD
    Slot *slots;
    Py_ssize_t capacity, used, limit; /* capacity: a power of two; limit: most slots used */
    Py_ssize_t *touched, ntouched;   /* slots with pending counts (or once had, this call) */
    uint32_t epoch;
    Py_ssize_t grown, cleared; /* statistics (tests, benchmarks) */
} FlowTable;

static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* A fast non-cryptographic hash of a zero-padded key (FLOW_KEY_MAX + 8 bytes readable). */
static inline uint64_t key_hash(const unsigned char *key, Py_ssize_t len, long long interface, long linktype) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)len ^ ((uint64_t)interface << 20) ^ ((uint64_t)linktype << 48);
    for (Py_ssize_t i = 0; i < len; i += 8) {
        h ^= load64(key + i);
        h *= 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 29;
    return h ? h : 1;
}

static void table_drop_slots(Slot *slots, Py_ssize_t capacity) {
    for (Py_ssize_t i = 0; i < capacity; i++)
        if (slots[i].hash) Py_CLEAR(slots[i].entry);
}

static void table_dealloc(FlowTable *t) {
    if (t->slots) table_drop_slots(t->slots, t->capacity);
    PyMem_Free(t->slots);
    PyMem_Free(t->touched);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static int table_alloc(FlowTable *t, Py_ssize_t capacity) {
    Slot *slots = PyMem_Calloc((size_t)capacity, sizeof(Slot));
    Py_ssize_t *touched = PyMem_Calloc((size_t)capacity, sizeof(Py_ssize_t));
    if (slots == NULL || touched == NULL) {
        PyMem_Free(slots);
        PyMem_Free(touched);
        PyErr_NoMemory();
        return -1;
    }
    t->slots = slots;
    t->touched = touched;
    t->capacity = capacity;
    t->used = t->ntouched = 0;
    return 0;
}

static PyObject *table_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    Py_ssize_t limit = 1 << 16;
    static char *names[] = {"limit", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|n", names, &limit)) return NULL;
    if (limit < 1) {
        PyErr_SetString(PyExc_ValueError, "a FlowTable needs room for at least one flow");
        return NULL;
    }
    FlowTable *t = (FlowTable *)type->tp_alloc(type, 0);
    if (t == NULL) return NULL;
    t->limit = limit;
    Py_ssize_t capacity = TABLE_START;
    if (table_alloc(t, capacity) < 0) {
        Py_DECREF(t);
        return NULL;
    }
    return (PyObject *)t;
}

/* entry[i] += n, as Python's int addition */
static int add_to_item(PyObject *entry, Py_ssize_t i, uint64_t n) {
    PyObject *old = PyList_GET_ITEM(entry, i), *sum = NULL;
    int overflow = 0;
    long long value = PyLong_CheckExact(old) ? PyLong_AsLongLongAndOverflow(old, &overflow) : 0;
    if (PyLong_CheckExact(old) && !overflow && !(value == -1 && PyErr_Occurred()) && n < (1ULL << 62) &&
        value < LLONG_MAX - (long long)n) {
        sum = PyLong_FromLongLong(value + (long long)n);
    } else {
        PyErr_Clear();
        PyObject *addend = PyLong_FromUnsignedLongLong(n);
        if (addend == NULL) return -1;
        sum = PyNumber_Add(old, addend);
        Py_DECREF(addend);
    }
    if (sum == NULL) return -1;
    PyList_SET_ITEM(entry, i, sum);
    Py_DECREF(old);
    return 0;
}

/* Write a slot's pending counts into its entry: packets, bytes, last. */
static int slot_write_back(Slot *s) {
    if (!s->packets) return 0;
    PyObject *entry = s->entry;
    if (add_to_item(entry, 0, s->packets) < 0 || add_to_item(entry, 1, s->bytes) < 0) return -1;
    PyObject *old = PyList_GET_ITEM(entry, 3);
    if (Py_REFCNT(old) == 1 && PyFloat_CheckExact(old)) {
        ((PyFloatObject *)old)->ob_fval = s->last; /* the entry's alone: nothing can tell */
    } else {
        PyObject *t = PyFloat_FromDouble(s->last);
        if (t == NULL) return -1;
        PyList_SET_ITEM(entry, 3, t);
        Py_DECREF(old);
    }
    s->packets = s->bytes = 0;
    return 0;
}

/* Every pending count into its entry; ends the call's use of the slots (next epoch). */
static int table_write_back(FlowTable *t) {
    int bad = 0;
    for (Py_ssize_t i = 0; i < t->ntouched; i++) {
        Slot *s = &t->slots[t->touched[i]];
        s->touched = 0;
        if (!bad && slot_write_back(s) < 0) bad = 1;
    }
    t->ntouched = 0;
    t->epoch++; /* entries may change in Python before the next use */
    return bad ? -1 : 0;
}

static Py_ssize_t table_find(FlowTable *t, uint64_t h, const unsigned char *key, Py_ssize_t len,
                             long long interface, long linktype, Py_ssize_t *free_at) {
    Py_ssize_t mask = t->capacity - 1;
    *free_at = -1;
    for (Py_ssize_t k = 0; k < PROBE_LIMIT; k++) {
        Py_ssize_t i = (Py_ssize_t)((h + (uint64_t)k) & (uint64_t)mask);
        Slot *s = &t->slots[i];
        if (s->hash == 0) {
            *free_at = i;
            return -1;
        }
        if (s->hash == h && s->keylen == len && s->interface == interface && s->linktype == linktype &&
            memcmp(s->key, key, (size_t)len) == 0)
            return i;
    }
    return -1;
}

/* Rehash into a table of twice the capacity (pending counts written back first). */
static int table_grow(FlowTable *t) {
    if (table_write_back(t) < 0) return -1;
    Slot *old = t->slots;
    Py_ssize_t *old_touched = t->touched, old_capacity = t->capacity, used = t->used;
    for (Py_ssize_t capacity = 2 * old_capacity;; capacity *= 2) {
        if (table_alloc(t, capacity) < 0) {
            t->slots = old;
            t->touched = old_touched;
            t->capacity = old_capacity;
            t->used = used;
            return -1;
        }
        int placed = 1;
        for (Py_ssize_t i = 0; i < old_capacity && placed; i++) {
            if (!old[i].hash) continue;
            Py_ssize_t free_at;
            table_find(t, old[i].hash, old[i].key, old[i].keylen, old[i].interface, old[i].linktype, &free_at);
            if (free_at < 0) placed = 0;
            else t->slots[free_at] = old[i];
        }
        if (placed) break;
        PyMem_Free(t->slots); /* a probe run too long even here: twice as large again */
        PyMem_Free(t->touched);
    }
    t->used = used;
    PyMem_Free(old);
    PyMem_Free(old_touched);
    t->grown++;
    return 0;
}

/* Forget every flow (pending counts written back first). */
static int table_clear(FlowTable *t) {
    if (table_write_back(t) < 0) return -1;
    table_drop_slots(t->slots, t->capacity);
    memset(t->slots, 0, (size_t)t->capacity * sizeof(Slot));
    t->used = 0;
    t->cleared++;
    return 0;
}

/* Add a flow; the slot index, or -1 with an error set. */
static Py_ssize_t table_insert(FlowTable *t, uint64_t h, const unsigned char *key, Py_ssize_t len,
                               long long interface, long linktype, PyObject *entry) {
    Py_ssize_t free_at = -1;
    for (int attempt = 0; attempt < 64; attempt++) {
        if (t->used < t->limit && 2 * (t->used + 1) <= t->capacity) {
            table_find(t, h, key, len, interface, linktype, &free_at);
            if (free_at >= 0) break;
        }
        /* full, too loaded or a long probe run: grow while under the limit, else start over */
        int bad = (t->used < t->limit && t->capacity < 4 * t->limit) ? table_grow(t) : table_clear(t);
        if (bad < 0) return -1;
    }
    if (free_at < 0) {
        PyErr_SetString(PyExc_RuntimeError, "FlowTable: no free slot");
        return -1;
    }
    Slot *s = &t->slots[free_at];
    memset(s, 0, sizeof(Slot));
    s->hash = h;
    Py_INCREF(entry);
    s->entry = entry;
    s->interface = interface;
    s->linktype = linktype;
    s->keylen = (uint16_t)len;
    memcpy(s->key, key, (size_t)len);
    s->epoch = t->epoch - 1; /* not read yet */
    t->used++;
    return free_at;
}

static Py_ssize_t table_len(FlowTable *t) { return t->used; }

static PyObject *table_stats(FlowTable *t, PyObject *unused) {
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n}", "used", t->used, "capacity", t->capacity, "limit", t->limit,
                         "grown", t->grown, "cleared", t->cleared);
}

static PyObject *table_py_clear(FlowTable *t, PyObject *unused) {
    if (table_clear(t) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *table_py_write_back(FlowTable *t, PyObject *unused) {
    if (table_write_back(t) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef table_methods[] = {
    {"write_back", (PyCFunction)table_py_write_back, METH_NOARGS,
     "Write every pending count into its entry (before Python looks at the entries)."},
    {"stats", (PyCFunction)table_stats, METH_NOARGS, "{used, capacity, limit, grown, cleared}"},
    {"clear", (PyCFunction)table_py_clear, METH_NOARGS, "Forget every flow."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods table_as_sequence = {.sq_length = (lenfunc)table_len};

static PyTypeObject FlowTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "dissector._fastscan.FlowTable",
    .tp_basicsize = sizeof(FlowTable),
    .tp_dealloc = (destructor)table_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "FlowTable(limit=65536): FastPath's C-native flow cache (flows kept at most: limit).",
    .tp_new = table_new,
    .tp_methods = table_methods,
    .tp_as_sequence = &table_as_sequence,
};

/* Level 2 through the table: 1 counted, 0 for the dict path / Python, -1 error. */
/* The flow bytes of a key (level 2's checks included) into flow, zero-padded; their length,
 * or 0 when level 2 does not apply (the packet goes to Python). */
static Py_ssize_t flow_bytes(State *st, const unsigned char *key, int nh, uint32_t wire_length,
                             unsigned char *flow) {
    long prefix = st->ip - st->start + 4;
    long span = st->spans[nh];
    long plen = rd16be(key + prefix);
    Py_ssize_t len;
    if (nh == 41) {
        if ((long)rd16be(key + prefix + 40) + 40 != plen) return 0;
        len = prefix + 72;
        if (len > FLOW_KEY_MAX) return 0;
        memcpy(flow, key, (size_t)prefix);
        memcpy(flow + prefix, key + prefix + 2, 38);
        memcpy(flow + prefix + 38, key + prefix + 42, 34);
    } else {
        if (plen < st->minpay[nh]) return 0;
        len = prefix + span - 6;
        if (len > FLOW_KEY_MAX) return 0;
        memcpy(flow, key, (size_t)prefix);
        memcpy(flow + prefix, key + prefix + 2, (size_t)(span - 6));
    }
    if ((long)wire_length < st->need + plen) return 0;
    memset(flow + len, 0, 8);
    return len;
}

/* Hash the next packet's flow now and fetch its slot while this packet is counted (the slots
 * do not stay in the caches while the capture streams through them). Reads only what
 * offer() will read; only the link type's plan already selected is used. */
static void prefetch_slot(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                          long long interface, long linktype) {
    if (!st->have_plan || st->cur_lt != linktype || (long)caplen < st->need) return;
    int nh = frame[st->ip + 6];
    long span = st->spans[nh];
    if (!span || (long)caplen < st->ip + span || st->ip - st->start + 4 + span - 6 > FLOW_KEY_MAX) return;
    unsigned char flow[FLOW_KEY_MAX + 8];
    Py_ssize_t len = flow_bytes(st, frame + st->start, nh, wire_length, flow);
    if (!len) return;
    uint64_t h = key_hash(flow, len, interface, linktype);
    Slot *s = &st->table->slots[h & (uint64_t)(st->table->capacity - 1)];
    PREFETCH(s);
    PREFETCH((const char *)s + 64);
    st->ahead_key = frame + st->start;
    st->ahead_hash = h;
    st->ahead_if = interface;
    st->ahead_lt = linktype;
}

static int offer_table(State *st, FlowTable *t, const unsigned char *key, int nh, uint32_t wire_length,
                       long long interface, long linktype, double time) {
    unsigned char flow[FLOW_KEY_MAX + 8];
    Py_ssize_t len = flow_bytes(st, key, nh, wire_length, flow);
    if (!len) return 0;
    if (!(time > -9.2e18 && time < 9.2e18)) return 0;
    long long second = (long long)time; /* int(time): truncation */
    uint64_t h = key == st->ahead_key && interface == st->ahead_if && linktype == st->ahead_lt
                     ? st->ahead_hash
                     : key_hash(flow, len, interface, linktype);
    Py_ssize_t free_at, at = table_find(t, h, flow, len, interface, linktype, &free_at);
    if (at < 0) { /* a flow Python knows? */
        int ok = select_interface(st, interface);
        if (ok <= 0) return ok;
        long ignored;
        PyObject *tuple = flow_key(st, key, nh, &ignored);
        if (tuple == NULL) return -1;
        if (tuple == Py_None) return 0;
        PyObject *entry = PyDict_GetItemWithError(st->flows, tuple);
        Py_DECREF(tuple);
        if (entry == NULL) {
            st->new_flow = !PyErr_Occurred();
            return st->new_flow ? 0 : -1;
        }
        if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != 7) return 0;
        at = table_insert(t, h, flow, len, interface, linktype, entry);
        if (at < 0) return -1;
    }
    Slot *s = &t->slots[at];
    if (s->epoch != t->epoch) { /* first use in this call: read the entry's second */
        int overflow;
        long long current = PyLong_AsLongLongAndOverflow(PyList_GET_ITEM(s->entry, 6), &overflow);
        if ((current == -1 && PyErr_Occurred()) || overflow) {
            PyErr_Clear();
            return 0;
        }
        s->second = current;
        s->epoch = t->epoch;
    }
    if (s->second == second) {
        if (!s->touched) {
            s->touched = 1;
            t->touched[t->ntouched++] = at;
        }
        s->packets++;
        s->bytes += wire_length;
        s->last = time;
        st->counted++;
        return 1;
    }
    /* a new second: the entry's own counts first, then count()'s roll on the Python objects */
    if (slot_write_back(s) < 0) return -1;
    int done = count(st, s->entry, time, wire_length);
    if (done > 0) s->second = second;
    return done;
}

/* FastPath.filter's cache levels for one packet: 1 counted, 0 for Python, -1 error. */
static int offer(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                 long long interface, long linktype, double time) {
    st->new_flow = 0;
    if (st->table != NULL) {
        int ok = select_plan(st, linktype);
        if (ok <= 0) return ok;
        if ((long)caplen < st->need) return 0;
        int nh = frame[st->ip + 6];
        long span = st->spans[nh];
        if (!span || (long)caplen < st->ip + span) return 0;
        /* a miss here is a flow Python's dict does not know (or a packet it must see) */
        if (st->ip - st->start + 4 + span - 6 <= FLOW_KEY_MAX)
            return offer_table(st, st->table, frame + st->start, nh, wire_length, interface, linktype, time);
    }
    return offer_dicts(st, frame, caplen, wire_length, interface, linktype, time);
}

/* Units per second and offset of an interface as C numbers; *exact = 0 when they are not
 * both exact in a double (epb_time then computes with Python objects). */
static int interface_clock(PyObject *divisor, PyObject *offset, double *div, double *off, int *exact) {
    int overflow;
    long long d = PyLong_AsLongLongAndOverflow(divisor, &overflow);
    long long o = overflow ? 0 : PyLong_AsLongLongAndOverflow(offset, &overflow);
    if (PyErr_Occurred()) return -1;
    *exact = !overflow && d > 0 && (double)d <= TWO53 && o > -(1LL << 53) && o < (1LL << 53);
    *div = (double)d;
    *off = (double)o;
    return 0;
}

/* pcapng time of an EPB, exactly as Python computes ((hi << 32) | lo) / divisor + offset. */
static int epb_time(uint64_t ts, PyObject *divisor, PyObject *offset, double div, double off, int exact,
                    double *out) {
    if (exact && (double)ts < TWO53) {
        /* both exact in a double: Python's int / int is this correctly rounded division */
        volatile double q = (double)ts / div;
        *out = q + off;
        return 0;
    }
    PyObject *num = PyLong_FromUnsignedLongLong(ts);
    if (num == NULL) return -1;
    PyObject *q = PyNumber_TrueDivide(num, divisor);
    Py_DECREF(num);
    if (q == NULL) return -1;
    PyObject *t = PyNumber_Add(q, offset);
    Py_DECREF(q);
    if (t == NULL) return -1;
    *out = PyFloat_AsDouble(t);
    Py_DECREF(t);
    return PyErr_Occurred() ? -1 : 0;
}

/* Before a return to Python: every pending count into its entry (keeping an error) --
 * unless the walk stopped at a packet of a flow that neither the table nor Python's flows
 * dict knows. Python then handles that one packet without touching any entry the table
 * holds (its exact-bytes dict can only lead to entries of that same flow, and Python's
 * flows dict has none), so the counts may stay pending; FastPath writes them back
 * (FlowTable.write_back) before anything else can look: flush, a record handed to its
 * caller, the end of the walk. Few walks stop anywhere else. */
static int end_call(State *st, int error) {
    if (st->table != NULL && (error || !st->new_flow)) {
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        if (table_write_back(st->table) < 0) {
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(traceback);
            return -1;
        }
        PyErr_Restore(type, value, traceback);
    }
    return error ? -1 : 0;
}

static const char pcapng_doc[] =
    "pcapng(state, buf, pos, end, number, last_time, interfaces, big_endian) -> (pos, number, last_time)\n\n"
    "Count the consecutive Enhanced Packet Blocks from pos that FastPath's caches settle; stop\n"
    "before the first other record. state is FastPath's accelerator state tuple.";

static PyObject *scan_pcapng(PyObject *self, PyObject *args) {
    PyObject *state, *bufobj, *interfaces;
    Py_ssize_t pos, end, number;
    double last_time;
    int big;
    if (!PyArg_ParseTuple(args, "OOnnndO!p", &state, &bufobj, &pos, &end, &number, &last_time, &PyList_Type,
                          &interfaces, &big))
        return NULL;
    State st;
    Py_buffer view, spans, minpay;
    if (parse_state(state, &st, &spans, &minpay) < 0) return NULL;
    if (PyObject_GetBuffer(bufobj, &view, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&spans);
        PyBuffer_Release(&minpay);
        return NULL;
    }
    const unsigned char *b = view.buf;
    if (end > view.len) end = view.len;
    if (pos < 0) pos = end;
    int error = 0;
    long cached_if = -1;
    long long gid = 0;
    long linktype = 0;
    PyObject *divisor = NULL, *offset = NULL;
    double div = 1, off = 0;
    int exact_clock = 0;
    Py_ssize_t fetched = pos; /* every line before this has been prefetched */
    while (pos + 32 <= end) {
        const unsigned char *p = b + pos;
        /* Blocks are a chain (each one's length says where the next starts): fetching them
         * one by one waits a memory latency per hop. Fetch every line a few pages ahead
         * instead, as a stream, whatever blocks they hold. */
        Py_ssize_t horizon = pos + LINEAR_AHEAD < end ? pos + LINEAR_AHEAD : end;
        for (; fetched < horizon; fetched += 64) PREFETCH(b + fetched);
        uint32_t btype = rd32(p, big), blen = rd32(p + 4, big), ifid = rd32(p + 8, big);
        uint32_t caplen = rd32(p + 20, big), wirelen = rd32(p + 24, big);
        if (btype != EPB || blen > (uint64_t)(end - pos) || blen & 3 || ifid >= (uint64_t)PyList_GET_SIZE(interfaces) ||
            (uint64_t)caplen + 32 > blen || rd32(p + blen - 4, big) != blen)
            break;
        if ((Py_ssize_t)blen + 8 <= end - pos) {
            /* Reading this trailer brought in the next block's header: start fetching that
             * block's far end now, so its cache miss overlaps this packet's dict work. */
            uint64_t next_len = rd32(p + blen + 4, big);
            if (next_len <= (uint64_t)(end - pos - blen) && next_len >= 4) {
                PREFETCH(p + blen + next_len - 4);
                PREFETCH(p + blen + 64);
                /* ... and two blocks ahead: the block after next starts in the line that the
                 * previous packet's prefetch asked for (the next block's trailer), which has
                 * had a whole packet's time to arrive; whole frames leave the trailers too far
                 * apart for one block of lead to hide the miss. */
                uint64_t after = (uint64_t)blen + next_len;
                if (next_len >= 12 && after + 8 <= (uint64_t)(end - pos)) {
                    uint64_t after_len = rd32(p + after + 4, big);
                    if (after_len >= 4 && after_len <= (uint64_t)(end - pos) - after) {
                        PREFETCH(p + after + after_len - 4);
                        PREFETCH(p + after + 64);
                    }
                }
            }
        }
        if ((long)ifid != cached_if) {
            PyObject *iface = PyList_GET_ITEM(interfaces, ifid);
            PyObject *lt;
            if (!PyTuple_CheckExact(iface) || PyTuple_GET_SIZE(iface) != 5) break;
            gid = PyLong_AsLongLong(PyTuple_GET_ITEM(iface, 0));
            lt = PyTuple_GET_ITEM(iface, 1);
            linktype = PyLong_AsLong(lt);
            divisor = PyTuple_GET_ITEM(iface, 2);
            offset = PyTuple_GET_ITEM(iface, 3);
            if (PyErr_Occurred() || interface_clock(divisor, offset, &div, &off, &exact_clock) < 0) {
                error = 1;
                break;
            }
            cached_if = (long)ifid;
        }
        double time;
        uint64_t ts = (uint64_t)rd32(p + 12, big) << 32 | rd32(p + 16, big);
        if (epb_time(ts, divisor, offset, div, off, exact_clock, &time) < 0) {
            error = 1;
            break;
        }
        if (st.table != NULL && (uint64_t)blen + 32 <= (uint64_t)(end - pos)) {
            const unsigned char *q = p + blen; /* the next block, if it is a packet of this interface */
            uint32_t qlen = rd32(q + 4, big), qcap = rd32(q + 20, big);
            if (rd32(q, big) == EPB && rd32(q + 8, big) == ifid && qlen <= (uint64_t)(end - pos - blen) &&
                (uint64_t)qcap + 32 <= qlen)
                prefetch_slot(&st, q + 28, qcap, rd32(q + 24, big), gid, linktype);
        }
        int done = offer(&st, p + 28, caplen, wirelen, gid, linktype, time);
        if (done < 0) error = 1;
        if (done <= 0) break;
        last_time = time;
        number++;
        pos += blen;
    }
    PyBuffer_Release(&view);
    PyBuffer_Release(&spans);
    PyBuffer_Release(&minpay);
    if (end_call(&st, error) < 0) return NULL;
    return Py_BuildValue("nndn", pos, number, last_time, st.counted);
}

static const char pcap_doc[] =
    "pcap(state, buf, pos, end, number, header_length, big_endian, unit, linktype) -> (pos, number)\n\n"
    "As pcapng() for classic pcap records (interface 0).";

static PyObject *scan_pcap(PyObject *self, PyObject *args) {
    PyObject *state, *bufobj;
    Py_ssize_t pos, end, number, header;
    int big;
    double unit;
    long linktype;
    if (!PyArg_ParseTuple(args, "OOnnnnpdl", &state, &bufobj, &pos, &end, &number, &header, &big, &unit, &linktype))
        return NULL;
    if (header < 16) {
        PyErr_SetString(PyExc_ValueError, "pcap record headers have at least 16 bytes");
        return NULL;
    }
    State st;
    Py_buffer view, spans, minpay;
    if (parse_state(state, &st, &spans, &minpay) < 0) return NULL;
    if (PyObject_GetBuffer(bufobj, &view, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&spans);
        PyBuffer_Release(&minpay);
        return NULL;
    }
    const unsigned char *b = view.buf;
    if (end > view.len) end = view.len;
    if (pos < 0) pos = end;
    int error = 0;
    Py_ssize_t fetched = pos; /* as in pcapng(): a stream of prefetches ahead of the chain */
    while (pos + header <= end) {
        const unsigned char *p = b + pos;
        Py_ssize_t horizon = pos + LINEAR_AHEAD < end ? pos + LINEAR_AHEAD : end;
        for (; fetched < horizon; fetched += 64) PREFETCH(b + fetched);
        uint32_t sec = rd32(p, big), frac = rd32(p + 4, big), caplen = rd32(p + 8, big), wirelen = rd32(p + 12, big);
        if ((uint64_t)caplen > (uint64_t)(end - pos - header)) break;
        volatile double scaled = (double)frac * unit; /* sec + frac * unit, no fused multiply-add */
        double time = (double)sec + scaled;
        Py_ssize_t next = pos + header + caplen; /* the next record, when whole in the buffer */
        if (st.table != NULL && next + header <= end) {
            const unsigned char *q = b + next;
            uint32_t qcap = rd32(q + 8, big);
            if ((uint64_t)qcap <= (uint64_t)(end - next - header))
                prefetch_slot(&st, q + header, qcap, rd32(q + 12, big), 0, linktype);
        }
        int done = offer(&st, p + header, caplen, wirelen, 0, linktype, time);
        if (done < 0) error = 1;
        if (done <= 0) break;
        number++;
        pos += header + caplen;
    }
    PyBuffer_Release(&view);
    PyBuffer_Release(&spans);
    PyBuffer_Release(&minpay);
    if (end_call(&st, error) < 0) return NULL;
    return Py_BuildValue("nnn", pos, number, st.counted);
}

/* Add one count (packets, size, first, last, canonical, interface, second) to merged. */
static int merge_count(PyObject *merged, PyObject *const *f, PyObject **latest) {
    int later = PyObject_RichCompareBool(f[6], *latest, Py_GT);
    if (later < 0) return -1;
    if (later) {
        Py_INCREF(f[6]);
        Py_SETREF(*latest, f[6]);
    }
    PyObject *key = PyTuple_Pack(3, f[5], f[6], f[4]);
    if (key == NULL) return -1;
    PyObject_GC_UnTrack(key); /* temporaries of numbers and immutable keys: no cycles */
    PyObject *row = PyDict_GetItemWithError(merged, key);
    if (row == NULL) {
        if (PyErr_Occurred()) goto failed;
        row = PyList_New(4);
        if (row == NULL) goto failed;
        PyObject_GC_UnTrack(row);
        for (int i = 0; i < 4; i++) {
            Py_INCREF(f[i]);
            PyList_SET_ITEM(row, i, f[i]);
        }
        int bad = PyDict_SetItem(merged, key, row);
        Py_DECREF(row);
        Py_DECREF(key);
        return bad;
    }
    Py_DECREF(key);
    for (int i = 0; i < 2; i++) { /* row[0] += packets; row[1] += size */
        PyObject *sum = PyNumber_Add(PyList_GET_ITEM(row, i), f[i]);
        if (sum == NULL || PyList_SetItem(row, i, sum) < 0) return -1;
    }
    /* row[2] = min(row[2], first); row[3] = max(row[3], last): the builtins' choices */
    int less = PyObject_RichCompareBool(f[2], PyList_GET_ITEM(row, 2), Py_LT);
    if (less < 0) return -1;
    if (less) {
        Py_INCREF(f[2]);
        PyList_SetItem(row, 2, f[2]);
    }
    int more = PyObject_RichCompareBool(f[3], PyList_GET_ITEM(row, 3), Py_GT);
    if (more < 0) return -1;
    if (more) {
        Py_INCREF(f[3]);
        PyList_SetItem(row, 3, f[3]);
    }
    return 0;
failed:
    Py_DECREF(key);
    return -1;
}

static const char flush_items_doc[] =
    "flush_items(done, dirty, texts, make_texts) -> (items, latest)\n\n"
    "FastPath.flush's merge, in C: the counts of done (tuples) and dirty (entries, then reset\n"
    "to zero counts) merged per (interface, second, canonical) in first-seen order, as row\n"
    "value tuples; texts caches make_texts(canonical). latest is the greatest second or -1.";

static PyObject *flush_items(PyObject *self, PyObject *args) {
    PyObject *done, *dirty, *texts, *make_texts;
    if (!PyArg_ParseTuple(args, "O!O!O!O", &PyList_Type, &done, &PyList_Type, &dirty, &PyDict_Type, &texts,
                          &make_texts))
        return NULL;
    PyObject *latest = PyLong_FromLong(-1);
    PyObject *merged = latest ? PyDict_New() : NULL;
    if (merged == NULL) {
        Py_XDECREF(latest);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(done); i++) {
        PyObject *count = PyList_GET_ITEM(done, i);
        if (!PyTuple_CheckExact(count) || PyTuple_GET_SIZE(count) != 7) {
            PyErr_SetString(PyExc_TypeError, "done counts must be 7-tuples");
            goto failed;
        }
        if (merge_count(merged, &PyTuple_GET_ITEM(count, 0), &latest) < 0) goto failed;
    }
    Py_ssize_t dirty_count = PyList_GET_SIZE(dirty);
    for (Py_ssize_t i = 0; i < dirty_count; i++) {
        /* the entries are scattered over the heap: fetch a few ahead, in stages (the list
         * object, then its item array, then the items), so the misses overlap */
        if (i + 8 < dirty_count) PREFETCH(PyList_GET_ITEM(dirty, i + 8));
        if (i + 4 < dirty_count && PyList_CheckExact(PyList_GET_ITEM(dirty, i + 4)))
            PREFETCH(((PyListObject *)PyList_GET_ITEM(dirty, i + 4))->ob_item);
        if (i + 2 < dirty_count) {
            PyObject *ahead = PyList_GET_ITEM(dirty, i + 2);
            if (PyList_CheckExact(ahead) && PyList_GET_SIZE(ahead) == 7)
                for (int k = 0; k < 7; k++) PREFETCH(PyList_GET_ITEM(ahead, k));
        }
        if (i + 1 < dirty_count) { /* ... and the parts of its canonical key (hashed next) */
            PyObject *ahead = PyList_GET_ITEM(dirty, i + 1);
            if (PyList_CheckExact(ahead) && PyList_GET_SIZE(ahead) == 7) {
                PyObject *canonical = PyList_GET_ITEM(ahead, 4);
                if (PyTuple_CheckExact(canonical))
                    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(canonical) && k < 8; k++)
                        PREFETCH(PyTuple_GET_ITEM(canonical, k));
            }
        }
        PyObject *entry = PyList_GET_ITEM(dirty, i);
        if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != 7) {
            PyErr_SetString(PyExc_TypeError, "dirty entries must be 7-lists");
            goto failed;
        }
        PyObject *fields[7];
        for (int k = 0; k < 7; k++) fields[k] = PyList_GET_ITEM(entry, k);
        if (merge_count(merged, fields, &latest) < 0) goto failed;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(dirty); i++) { /* keep the entries, zero counts */
        PyObject *entry = PyList_GET_ITEM(dirty, i);
        PyObject *zero = PyLong_FromLong(0), *zero2 = PyLong_FromLong(0), *none = PyLong_FromLong(-1);
        if (zero == NULL || zero2 == NULL || none == NULL || PyList_SetItem(entry, 0, zero) < 0 ||
            PyList_SetItem(entry, 1, zero2) < 0 || PyList_SetItem(entry, 6, none) < 0)
            goto failed;
    }
    if (PyList_SetSlice(dirty, 0, PyList_GET_SIZE(dirty), NULL) < 0 ||
        PyList_SetSlice(done, 0, PyList_GET_SIZE(done), NULL) < 0)
        goto failed;
    /* first every row's texts (the tuples are scattered over the heap: each is fetched while
     * the next ones are looked up), then the items, fetching the strings a few rows ahead */
    Py_ssize_t count = PyDict_GET_SIZE(merged);
    PyObject **found = PyMem_Malloc((size_t)(count ? count : 1) * 3 * sizeof(PyObject *));
    if (found == NULL) {
        PyErr_NoMemory();
        goto failed;
    }
    PyObject *items = NULL;
    Py_ssize_t at = 0, r = 0;
    PyObject *key, *row;
    while (r < count && PyDict_Next(merged, &at, &key, &row)) {
        PyObject *canonical = PyTuple_GET_ITEM(key, 2);
        PyObject *text = PyDict_GetItemWithError(texts, canonical);
        if (text == NULL) {
            if (PyErr_Occurred()) goto failed_items;
            text = PyObject_CallOneArg(make_texts, canonical);
            if (text == NULL) goto failed_items;
            int bad = PyDict_SetItem(texts, canonical, text);
            Py_DECREF(text); /* texts holds it (borrowed below: nothing removes it meanwhile) */
            if (bad < 0) goto failed_items;
        }
        if (!PyTuple_CheckExact(text)) {
            PyErr_SetString(PyExc_TypeError, "make_texts must return a tuple");
            goto failed_items;
        }
        PREFETCH((const char *)text + 24);
        found[3 * r] = key;
        found[3 * r + 1] = row;
        found[3 * r + 2] = text;
        r++;
    }
    items = PyList_New(r);
    if (items == NULL) goto failed_items;
    for (Py_ssize_t i = 0; i < r; i++) {
        if (i + 2 < r) {
            PyObject *ahead = found[3 * (i + 2) + 2];
            for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(ahead) && k < 8; k++) PREFETCH(PyTuple_GET_ITEM(ahead, k));
        }
        key = found[3 * i];
        row = found[3 * i + 1];
        PyObject *text = found[3 * i + 2];
        Py_ssize_t n = PyTuple_GET_SIZE(text);
        PyObject *item = PyTuple_New(n + 6);
        if (item == NULL) goto failed_items;
        PyObject_GC_UnTrack(item);
        PyObject *values[2] = {PyTuple_GET_ITEM(key, 0), PyTuple_GET_ITEM(key, 1)};
        for (int k = 0; k < 2; k++) {
            Py_INCREF(values[k]);
            PyTuple_SET_ITEM(item, k, values[k]);
        }
        for (Py_ssize_t k = 0; k < n; k++) {
            Py_INCREF(PyTuple_GET_ITEM(text, k));
            PyTuple_SET_ITEM(item, 2 + k, PyTuple_GET_ITEM(text, k));
        }
        for (int k = 0; k < 4; k++) {
            Py_INCREF(PyList_GET_ITEM(row, k));
            PyTuple_SET_ITEM(item, 2 + n + k, PyList_GET_ITEM(row, k));
        }
        PyList_SET_ITEM(items, i, item);
    }
    PyMem_Free(found);
    Py_DECREF(merged);
    return Py_BuildValue("(NN)", items, latest);
failed_items:
    PyMem_Free(found);
    Py_XDECREF(items);
failed:
    Py_DECREF(merged);
    Py_DECREF(latest);
    return NULL;
}

typedef struct {
    double first;
    long long interface;
    Py_ssize_t index;
    PyObject *item;
} RowOrder;

static int compare_rows(const void *a, const void *b) {
    const RowOrder *x = a, *y = b;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    if (x->interface != y->interface) return x->interface < y->interface ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index; /* stable */
}

static const char order_rows_doc[] =
    "order_rows(items, first_index, interface_index) -> bool\n\n"
    "Sort row value tuples in place by (first, interface), stably: what FastPath.flush's two\n"
    "stable sorts (by interface, then by first) do. False, with items untouched, when a key is\n"
    "not a plain float (no NaN) / int: then Python sorts.";

static PyObject *order_rows(PyObject *self, PyObject *args) {
    PyObject *items;
    Py_ssize_t first_at, interface_at;
    if (!PyArg_ParseTuple(args, "O!nn", &PyList_Type, &items, &first_at, &interface_at)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(items);
    if (n < 2) Py_RETURN_TRUE;
    RowOrder *rows = PyMem_Malloc((size_t)n * sizeof(RowOrder));
    if (rows == NULL) return PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        if (!PyTuple_CheckExact(item) || first_at < 0 || interface_at < 0 || PyTuple_GET_SIZE(item) <= first_at ||
            PyTuple_GET_SIZE(item) <= interface_at)
            goto python_sorts;
        PyObject *first = PyTuple_GET_ITEM(item, first_at), *interface = PyTuple_GET_ITEM(item, interface_at);
        if (!PyFloat_CheckExact(first) || !PyLong_CheckExact(interface)) goto python_sorts;
        double value = PyFloat_AS_DOUBLE(first);
        if (value != value) goto python_sorts; /* NaN: no order */
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(interface, &overflow);
        if (overflow || (number == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            goto python_sorts;
        }
        rows[i] = (RowOrder){value, number, i, item};
    }
    qsort(rows, (size_t)n, sizeof(RowOrder), compare_rows);
    for (Py_ssize_t i = 0; i < n; i++) PyList_SET_ITEM(items, i, rows[i].item); /* a permutation */
    PyMem_Free(rows);
    Py_RETURN_TRUE;
python_sorts:
    PyMem_Free(rows);
    Py_RETURN_FALSE;
}

static const char instances_doc[] =
    "instances(cls, fields, rows) -> list\n\n"
    "cls(*row) for each tuple in rows, for a slotted dataclass without __post_init__ whose slots\n"
    "are exactly fields (in that order): the slots are filled directly, as the generated\n"
    "__init__ would (FastPath.flush makes tens of thousands of TrafficCount rows per second).";

static PyObject *instances(PyObject *self, PyObject *args) {
    PyTypeObject *cls;
    PyObject *fields, *rows;
    if (!PyArg_ParseTuple(args, "O!O!O!", &PyType_Type, &cls, &PyTuple_Type, &fields, &PyList_Type, &rows))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(fields), members = 0;
    Py_ssize_t offsets[64];
    PyMemberDef *m = cls->tp_members;
    for (; m != NULL && m->name != NULL; m++) members++;
    if (n > 64 || members != n || cls->tp_dictoffset != 0 || !(cls->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        PyErr_SetString(PyExc_TypeError, "instances() needs a slotted class whose slots are the fields");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(fields, i));
        if (name == NULL) return NULL;
        offsets[i] = -1;
        for (m = cls->tp_members; m->name != NULL; m++)
            if (strcmp(m->name, name) == 0 && m->type == T_OBJECT_EX && !(m->flags & READONLY)) offsets[i] = m->offset;
        if (offsets[i] < 0) {
            PyErr_Format(PyExc_TypeError, "%s has no writable slot %s", cls->tp_name, name);
            return NULL;
        }
    }
    Py_ssize_t count = PyList_GET_SIZE(rows);
    PyObject *out = PyList_New(count);
    if (out == NULL) return NULL;
    for (Py_ssize_t r = 0; r < count; r++) {
        PyObject *row = PyList_GET_ITEM(rows, r);
        if (!PyTuple_CheckExact(row) || PyTuple_GET_SIZE(row) != n) {
            PyErr_SetString(PyExc_TypeError, "instances() rows must be tuples with one value per field");
            Py_DECREF(out);
            return NULL;
        }
        PyObject *obj = cls->tp_alloc(cls, 0);
        if (obj == NULL) {
            Py_DECREF(out);
            return NULL;
        }

        int atoms = 1;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *value = PyTuple_GET_ITEM(row, i);
            Py_INCREF(value);
            *(PyObject **)((char *)obj + offsets[i]) = value;
            if (PyObject_IS_GC(value) && PyObject_GC_IsTracked(value)) atoms = 0;
        }
        /* A frozen row of numbers and strings can be in no reference cycle: untracked, as
         * CPython does with such tuples (tens of thousands per second: fewer collections). */
        if (atoms && PyObject_GC_IsTracked(obj)) PyObject_GC_UnTrack(obj);
        PyList_SET_ITEM(out, r, obj);
    }
    return out;
}

static PyMethodDef methods[] = {
    {"instances", instances, METH_VARARGS, instances_doc},
    {"order_rows", order_rows, METH_VARARGS, order_rows_doc},
    {"flush_items", flush_items, METH_VARARGS, flush_items_doc},
    {"pcapng", scan_pcapng, METH_VARARGS, pcapng_doc},
    {"pcap", scan_pcap, METH_VARARGS, pcap_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastscan", "C accelerator for dissector.fastpath (optional).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastscan(void) {
    if (PyType_Ready(&FlowTableType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&FlowTableType);
    if (PyModule_AddObject(m, "FlowTable", (PyObject *)&FlowTableType) < 0) {
        Py_DECREF(&FlowTableType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
