/* _fastscan flush: FastPath.flush's rows (flush_items, order_rows, instances). */
#include "fastscan.h"
#ifdef _WIN32
#include <ws2tcpip.h>
#else
#include <arpa/inet.h> /* inet_ntop */
#endif

/* Texts of addresses met before, by their raw bytes: a direct-mapped cache (a new address takes
 * the slot of whatever hashed there). A home agent's flows (one canonical key each, texts made
 * per key) are made of far fewer addresses -- its nodes' HoAs and CoAs and their peers -- so
 * most texts are found here instead of inet_ntop + a new str, and equal addresses become one
 * str object (whose hash Python then computes once, not per row). Bounded: ADDRESS_SLOTS texts. */
#define ADDRESS_SLOTS 65536
typedef struct {
    unsigned char raw[16];
    int len;
    PyObject *text;
} AddressSlot;
static AddressSlot address_cache[ADDRESS_SLOTS];
static Py_ssize_t address_hits, address_misses;

/* MurmurHash3's 64-bit finaliser: every input bit moves the low bits (addresses of one prefix
 * differ only in their last bytes, the high end of the little-endian words) */
static uint64_t mix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 33);
}

static size_t address_slot(const char *raw, int len) {
    uint64_t a = 0, b = 0;
    memcpy(&a, raw, len < 8 ? (size_t)len : 8u);
    if (len > 8) memcpy(&b, raw + 8, (size_t)len - 8);
    return (size_t)(mix64(a ^ mix64(b ^ (uint64_t)len)) & (ADDRESS_SLOTS - 1));
}

/* One address as text, as socket.inet_ntop gives it (both call the C library's inet_ntop). */
static PyObject *address_text(const char *raw, int family) {
    int len = family == AF_INET6 ? 16 : 4;
    AddressSlot *slot = &address_cache[address_slot(raw, len)];
    if (slot->text != NULL && slot->len == len && memcmp(slot->raw, raw, (size_t)len) == 0) {
        address_hits++;
        return Py_NewRef(slot->text);
    }
    char text[64];
    if (inet_ntop(family, raw, text, sizeof text) == NULL) return NULL;
    PyObject *made = PyUnicode_FromString(text);
    if (made == NULL) return NULL;
    address_misses++;
    Py_XSETREF(slot->text, Py_NewRef(made));
    memcpy(slot->raw, raw, (size_t)len);
    slot->len = len;
    return made;
}

const char address_texts_doc[] =
    "address_texts() -> (hits, misses)\n\n"
    "How often flush_items found an address's text in its cache, and how often it made one.";

PyObject *address_texts(PyObject *Py_UNUSED(self), PyObject *Py_UNUSED(args)) {
    return Py_BuildValue("(nn)", address_hits, address_misses);
}

/* fastpath._texts(canonical) for the canonical keys Classifier makes: (via, outer pair | None,
 * inner pair, HAO | None, RH2 | None), pairs of 8 (IPv4) or 32 (IPv6) bytes. NULL without an
 * error set for any other shape (then Python's _texts decides), NULL with one on failure. */
static PyObject *canonical_texts(PyObject *canonical) {
    if (!PyTuple_CheckExact(canonical) || PyTuple_GET_SIZE(canonical) != 5) return NULL;
    PyObject *via = PyTuple_GET_ITEM(canonical, 0);
    if (!PyUnicode_CheckExact(via)) return NULL;
    PyObject *out[7] = {via, NULL, NULL, NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4; i++) { /* outer, inner, hao, rh2 */
        PyObject *part = PyTuple_GET_ITEM(canonical, i + 1);
        if (part == Py_None && i != 1) continue;
        if (!PyBytes_CheckExact(part)) return NULL;
        Py_ssize_t size = PyBytes_GET_SIZE(part);
        if (i < 2 ? size != 8 && size != 32 : size != 16) return NULL; /* (an empty HAO/RH2: Python) */
    }
    PyObject *texts = PyTuple_New(7);
    if (texts == NULL) return NULL;
    for (int i = 0; i < 4; i++) {
        PyObject *part = PyTuple_GET_ITEM(canonical, i + 1);
        const char *raw = part == Py_None ? NULL : PyBytes_AS_STRING(part);
        if (i < 2) { /* a pair: two texts */
            Py_ssize_t half = raw && PyBytes_GET_SIZE(part) == 32 ? 16 : 4;
            int family = half == 16 ? AF_INET6 : AF_INET;
            out[1 + 2 * i] = raw ? address_text(raw, family) : Py_NewRef(Py_None);
            out[2 + 2 * i] = raw ? address_text(raw + half, family) : Py_NewRef(Py_None);
        } else {
            out[3 + i] = raw ? address_text(raw, AF_INET6) : Py_NewRef(Py_None);
        }
    }
    Py_INCREF(via);
    int bad = 0;
    for (int i = 0; i < 7; i++) {
        if (out[i] == NULL) bad = 1;
        PyTuple_SET_ITEM(texts, i, out[i]); /* NULL slots are fine for Py_DECREF of the tuple */
    }
    if (bad) {
        Py_DECREF(texts);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "inet_ntop failed");
        return NULL;
    }
    return texts;
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

/* After a flush (FastPath._reset_counted): the counting entries (validated 7-lists) keep their
 * keys with zero counts and no second; both lists are emptied. */
static int reset_counted(PyObject *done, PyObject *dirty) {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(dirty); i++) {
        PyObject *entry = PyList_GET_ITEM(dirty, i);
        PyObject *zero = PyLong_FromLong(0), *zero2 = PyLong_FromLong(0), *none = PyLong_FromLong(-1);
        if (zero == NULL || zero2 == NULL || none == NULL || PyList_SetItem(entry, 0, zero) < 0 ||
            PyList_SetItem(entry, 1, zero2) < 0 || PyList_SetItem(entry, 6, none) < 0)
            return -1;
    }
    if (PyList_SetSlice(dirty, 0, PyList_GET_SIZE(dirty), NULL) < 0) return -1;
    return PyList_SetSlice(done, 0, PyList_GET_SIZE(done), NULL);
}

const char flush_items_doc[] =
    "flush_items(done, dirty, texts, make_texts) -> (items, latest)\n\n"
    "FastPath.flush's merge, in C: the counts of done (tuples) and dirty (entries, then reset\n"
    "to zero counts) merged per (interface, second, canonical) in first-seen order, as row\n"
    "value tuples; texts caches make_texts(canonical). latest is the greatest second or -1.";

PyObject *flush_items(PyObject *Py_UNUSED(self), PyObject *args) {
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
    if (reset_counted(done, dirty) < 0) goto failed;
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
            text = canonical_texts(canonical);
            if (text == NULL && !PyErr_Occurred()) text = PyObject_CallOneArg(make_texts, canonical);
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

const char order_rows_doc[] =
    "order_rows(items, first_index, interface_index) -> bool\n\n"
    "Sort row value tuples in place by (first, interface), stably: what FastPath.flush's two\n"
    "stable sorts (by interface, then by first) do. False, with items untouched, when a key is\n"
    "not a plain float (no NaN) / int: then Python sorts.";

PyObject *order_rows(PyObject *Py_UNUSED(self), PyObject *args) {
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

const char instances_doc[] =
    "instances(cls, fields, rows) -> list\n\n"
    "cls(*row) for each tuple in rows, for a slotted dataclass without __post_init__ whose slots\n"
    "are exactly fields (in that order): each slot set as object.__setattr__ sets it (the generated\n"
    "__init__'s way (FastPath.flush makes tens of thousands of TrafficCount rows per second).";

PyObject *instances(PyObject *Py_UNUSED(self), PyObject *args) {
    PyTypeObject *cls;
    PyObject *fields, *rows;
    if (!PyArg_ParseTuple(args, "O!O!O!", &PyType_Type, &cls, &PyTuple_Type, &fields, &PyList_Type, &rows))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(fields), members = 0;
    PyMemberDef *m = cls->tp_members;
    for (; m != NULL && m->name != NULL; m++) members++;
    if (n > 64 || members != n || cls->tp_dictoffset != 0 || !(cls->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        PyErr_SetString(PyExc_TypeError, "instances() needs a slotted class whose slots are the fields");
        return NULL;
    }
    PyMemberDef *slots[64]; /* the slot of each field, in the fields' order */
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(fields, i));
        if (name == NULL) return NULL;
        slots[i] = NULL;
        for (m = cls->tp_members; m->name != NULL; m++)
            if (strcmp(m->name, name) == 0 && m->type == T_OBJECT_EX && !(m->flags & READONLY)) slots[i] = m;
        if (slots[i] == NULL) {
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
            /* what object.__setattr__ does through the slot's member descriptor (dataclasses'
             * frozen __init__): PyMember_SetOne, the public API behind it, without looking the
             * descriptor up by name for every value */
            if (PyMember_SetOne((char *)obj, slots[i], value) < 0) {
                Py_DECREF(obj);
                Py_DECREF(out);
                return NULL;
            }
            if (PyObject_IS_GC(value) && PyObject_GC_IsTracked(value)) atoms = 0;
        }
        /* A frozen row of numbers and strings can be in no reference cycle: untracked, as
         * CPython does with such tuples (tens of thousands per second: fewer collections). */
        if (atoms && PyObject_GC_IsTracked(obj)) PyObject_GC_UnTrack(obj);
        PyList_SET_ITEM(out, r, obj);
    }
    return out;
}

const char drop_idle_doc[] =
    "drop_idle(flows, cut, last_index) -> int\n\n"
    "FastPath._evict_idle's scan, in C: delete from the dict flows every entry (a list) whose\n"
    "item last_index is less than cut (compared as Python compares them); returns how many.";

PyObject *drop_idle(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *flows, *cut;
    Py_ssize_t at;
    if (!PyArg_ParseTuple(args, "O!On", &PyDict_Type, &flows, &cut, &at)) return NULL;
    if (at < 0) {
        PyErr_SetString(PyExc_ValueError, "last_index must be >= 0");
        return NULL;
    }
    /* a float entry against a small int (or float) cut: compared as doubles, exactly as Python
     * does (an int below 2**53 converts exactly); anything else through the rich comparison */
    int quick = 0;
    double limit = 0.0;
    if (PyFloat_CheckExact(cut)) {
        limit = PyFloat_AS_DOUBLE(cut);
        quick = limit == limit;
    } else if (PyLong_CheckExact(cut)) {
        int overflow;
        long long value = PyLong_AsLongLongAndOverflow(cut, &overflow);
        if (value == -1 && PyErr_Occurred()) return NULL;
        if (!overflow && value < (1LL << 53) && value > -(1LL << 53)) {
            limit = (double)value;
            quick = 1;
        }
    }
    /* the entries first (the dict's own memory, in order), then each entry's last time with
     * the next ones fetched ahead: they are scattered over the heap */
    Py_ssize_t count = PyDict_GET_SIZE(flows);
    PyObject **pairs = PyMem_Malloc((size_t)(count ? count : 1) * 2 * sizeof(PyObject *));
    if (pairs == NULL) return PyErr_NoMemory();
    Py_ssize_t pos = 0, n = 0;
    PyObject *key, *entry;
    while (n < count && PyDict_Next(flows, &pos, &key, &entry)) {
        pairs[2 * n] = key;
        pairs[2 * n + 1] = entry;
        n++;
    }
    Py_ssize_t idle = 0; /* idle keys are moved to the front of pairs (even slots) */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i + 8 < n) PREFETCH(pairs[2 * (i + 8) + 1]);
        if (i + 4 < n && PyList_CheckExact(pairs[2 * (i + 4) + 1]))
            PREFETCH(((PyListObject *)pairs[2 * (i + 4) + 1])->ob_item);
        if (i + 2 < n) {
            PyObject *ahead = pairs[2 * (i + 2) + 1];
            if (PyList_CheckExact(ahead) && PyList_GET_SIZE(ahead) > at) PREFETCH(PyList_GET_ITEM(ahead, at));
        }
        entry = pairs[2 * i + 1];
        if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) <= at) {
            PyErr_SetString(PyExc_TypeError, "drop_idle: flow entries must be lists holding last_index");
            PyMem_Free(pairs);
            return NULL;
        }
        PyObject *last = PyList_GET_ITEM(entry, at);
        int less;
        if (quick && PyFloat_CheckExact(last)) {
            less = PyFloat_AS_DOUBLE(last) < limit;
        } else {
            less = PyObject_RichCompareBool(last, cut, Py_LT);
            if (less < 0) {
                PyMem_Free(pairs);
                return NULL;
            }
        }
        if (less) pairs[2 * idle++] = pairs[2 * i];
    }
    /* the keys are borrowed from the dict: each is held while it is deleted */
    for (Py_ssize_t i = 0; i < idle; i++) {
        key = pairs[2 * i];
        Py_INCREF(key);
        int bad = PyDict_DelItem(flows, key);
        Py_DECREF(key);
        if (bad < 0) {
            PyMem_Free(pairs);
            return NULL;
        }
    }
    PyMem_Free(pairs);
    return PyLong_FromSsize_t(idle);
}
