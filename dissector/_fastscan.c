/* _fastscan: optional C accelerator for dissector.fastpath (see FastPath.filter).
 *
 * It walks consecutive pcapng Enhanced Packet Blocks (or pcap records) of a buffer and
 * counts every packet that FastPath.filter would count through its *caches* (levels 1 and
 * 2 of fastpath.py), reading and updating the very same Python dicts and entry lists. At
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
    /* caches for the current interface / link type */
    long long cur_if;
    PyObject *exacts, *flows;     /* borrowed from the dicts above (kept alive by them) */
    long cur_lt;
    int have_plan;
    long start, ip, need;
    Py_ssize_t counted;
} State;

static int parse_state(PyObject *tuple, State *st, Py_buffer *spans, Py_buffer *minpay) {
    PyObject *sp, *mp;
    if (!PyArg_ParseTuple(tuple, "OOO!O!O!O!O!n", &sp, &mp, &PyDict_Type, &st->plans, &PyDict_Type,
                          &st->exact_by_if, &PyDict_Type, &st->flows_by_if, &PyList_Type, &st->dirty,
                          &PyList_Type, &st->done, &st->exact_limit))
        return -1;
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

/* FastPath.filter's cache levels for one packet: 1 counted, 0 for Python, -1 error. */
static int offer(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
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
    while (pos + 32 <= end) {
        const unsigned char *p = b + pos;
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
    if (error) return NULL;
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
    while (pos + header <= end) {
        const unsigned char *p = b + pos;
        uint32_t sec = rd32(p, big), frac = rd32(p + 4, big), caplen = rd32(p + 8, big), wirelen = rd32(p + 12, big);
        if ((uint64_t)caplen > (uint64_t)(end - pos - header)) break;
        volatile double scaled = (double)frac * unit; /* sec + frac * unit, no fused multiply-add */
        double time = (double)sec + scaled;
        int done = offer(&st, p + header, caplen, wirelen, 0, linktype, time);
        if (done < 0) error = 1;
        if (done <= 0) break;
        number++;
        pos += header + caplen;
    }
    PyBuffer_Release(&view);
    PyBuffer_Release(&spans);
    PyBuffer_Release(&minpay);
    if (error) return NULL;
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
    PyObject *items = PyList_New(0);
    if (items == NULL) goto failed;
    Py_ssize_t at = 0;
    PyObject *key, *row;
    while (PyDict_Next(merged, &at, &key, &row)) {
        PyObject *canonical = PyTuple_GET_ITEM(key, 2);
        PyObject *text = PyDict_GetItemWithError(texts, canonical);
        if (text == NULL) {
            if (PyErr_Occurred()) goto failed_items;
            text = PyObject_CallOneArg(make_texts, canonical);
            if (text == NULL) goto failed_items;
            int bad = PyDict_SetItem(texts, canonical, text);
            Py_DECREF(text); /* texts holds it */
            if (bad < 0) goto failed_items;
        }
        if (!PyTuple_CheckExact(text)) {
            PyErr_SetString(PyExc_TypeError, "make_texts must return a tuple");
            goto failed_items;
        }
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
        int bad = PyList_Append(items, item);
        Py_DECREF(item);
        if (bad < 0) goto failed_items;
    }
    Py_DECREF(merged);
    return Py_BuildValue("(NN)", items, latest);
failed_items:
    Py_DECREF(items);
failed:
    Py_DECREF(merged);
    Py_DECREF(latest);
    return NULL;
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
    {"flush_items", flush_items, METH_VARARGS, flush_items_doc},
    {"pcapng", scan_pcapng, METH_VARARGS, pcapng_doc},
    {"pcap", scan_pcap, METH_VARARGS, pcap_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastscan", "C accelerator for dissector.fastpath (optional).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastscan(void) { return PyModule_Create(&module); }
