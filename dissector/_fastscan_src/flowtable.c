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
#include "fastscan.h"

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
    PyObject *t = PyFloat_FromDouble(s->last);
    if (t == NULL || PyList_SetItem(entry, 3, t) < 0) return -1;
    s->packets = s->bytes = 0;
    return 0;
}

/* Every pending count into its entry; ends the call's use of the slots (next epoch). */
int table_write_back(FlowTable *t) {
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

static PyObject *table_stats(FlowTable *t, PyObject *Py_UNUSED(unused)) {
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n}", "used", t->used, "capacity", t->capacity, "limit", t->limit,
                         "grown", t->grown, "cleared", t->cleared);
}

/* clear() from Python (FastPath's idle sweep, watch): forget every flow and give the memory
 * back -- the table starts small again and grows with the flows active from now on, so a
 * burst of flows long gone does not keep its capacity (~200 bytes a slot) for the rest of
 * the capture. The internal clear (a full table) keeps its capacity: it refills at once. */
static PyObject *table_py_clear(FlowTable *t, PyObject *Py_UNUSED(unused)) {
    if (table_clear(t) < 0) return NULL;
    if (t->capacity > TABLE_START) {
        Slot *old = t->slots;
        Py_ssize_t *old_touched = t->touched, old_capacity = t->capacity;
        if (table_alloc(t, TABLE_START) < 0) { /* keep the cleared large table */
            PyErr_Clear();
            t->slots = old;
            t->touched = old_touched;
            t->capacity = old_capacity;
        } else {
            PyMem_Free(old);
            PyMem_Free(old_touched);
        }
    }
    Py_RETURN_NONE;
}

static PyObject *table_py_write_back(FlowTable *t, PyObject *Py_UNUSED(unused)) {
    if (table_write_back(t) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef table_methods[] = {
    {"write_back", (PyCFunction)table_py_write_back, METH_NOARGS,
     "Write every pending count into its entry (before Python looks at the entries)."},
    {"stats", (PyCFunction)table_stats, METH_NOARGS, "{used, capacity, limit, grown, cleared}"},
    {"clear", (PyCFunction)table_py_clear, METH_NOARGS, "Forget every flow and shrink to the starting size."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods table_as_sequence = {.sq_length = (lenfunc)table_len};

PyTypeObject FlowTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "dissector._fastscan.FlowTable",
    .tp_basicsize = sizeof(FlowTable),
    .tp_dealloc = (destructor)table_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "FlowTable(limit=65536): FastPath's C-native flow cache (flows kept at most: limit).",
    .tp_new = table_new,
    .tp_methods = table_methods,
    .tp_as_sequence = &table_as_sequence,
};

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
void prefetch_slot(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                   long long interface, long linktype) {
    linktype = plan_linktype(frame, caplen, linktype);
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

/* Level 2 through the table: 1 counted, 0 for the dict path / Python, -1 error. */
int offer_table(State *st, FlowTable *t, const unsigned char *frame, uint32_t caplen, int nh,
                uint32_t wire_length, long long interface, long linktype, double time) {
    const unsigned char *key = frame + st->start;
    unsigned char flow[FLOW_KEY_MAX + 8];
    Py_ssize_t len = flow_bytes(st, key, nh, wire_length, flow);
    if (!len) return 0;
    if (!(time > -9.2e18 && time < 9.2e18)) return 0;
    long long second = (long long)time; /* int(time): truncation */
    uint64_t h = key == st->ahead_key && interface == st->ahead_if && linktype == st->ahead_lt
                     ? st->ahead_hash
                     : key_hash(flow, len, interface, linktype);
    Py_ssize_t free_at, at = table_find(t, h, flow, len, interface, linktype, &free_at);
    if (at < 0 && st->tally != NULL && st->udp_ports != NULL && PySet_GET_SIZE(st->watched) == 0) {
        /* count-only, level 3 in C: nothing is counted into entries, so a new flow of a cacheable
         * class is learnt by the table alone (its slot holds None); Python's dicts are not asked */
        if (!admit_known_class(st, frame, caplen, wire_length, linktype, time)) {
            st->new_flow = 1;
            return 0; /* offer() goes on to admit_other, then Python */
        }
        if (table_insert(t, h, flow, len, interface, linktype, Py_None) < 0) return -1;
        return tally(st, time);
    }
    if (at < 0) { /* a flow Python knows? */
        int ok = select_interface(st, interface);
        if (ok <= 0) return ok;
        long plen;
        PyObject *tuple = flow_key(st, key, nh, &plen);
        if (tuple == NULL) return -1;
        if (tuple == Py_None) return 0;
        PyObject *entry = PyDict_GetItemWithError(st->flows, tuple);
        if (entry == NULL) {
            if (PyErr_Occurred()) {
                Py_DECREF(tuple);
                return -1;
            }
            /* a new flow: level 3 here when its class is cacheable, else Python's _admit */
            int admitted = admit_flow(st, frame, caplen, wire_length, interface, linktype, time, tuple, plen, &entry);
            Py_DECREF(tuple);
            if (admitted <= 0) {
                st->new_flow = admitted == 0;
                return admitted;
            }
            /* counted (the entry's first roll is done); the table learns the flow for its next packet */
            return table_insert(t, h, flow, len, interface, linktype, entry) < 0 ? -1 : 1;
        }
        Py_DECREF(tuple);
        if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != 7) return 0;
        at = table_insert(t, h, flow, len, interface, linktype, entry);
        if (at < 0) return -1;
    }
    if (st->tally != NULL) return tally(st, time); /* count-only: no pending counts, no entry */
    Slot *s = &t->slots[at];
    if (s->entry == Py_None) return 0; /* learnt in count-only mode (never mixed): Python counts */
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
