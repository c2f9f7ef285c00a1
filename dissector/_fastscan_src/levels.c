/* _fastscan levels: the state tuple, the dict cache levels and count() (the inlined _roll). */
#include "fastscan.h"

int parse_state(PyObject *tuple, State *st, Py_buffer *spans, Py_buffer *minpay) {
    PyObject *sp, *mp, *table, *admit = Py_None, *tally = Py_None;
    if (!PyArg_ParseTuple(tuple, "OOO!O!O!O!O!nO|OO", &sp, &mp, &PyDict_Type, &st->plans, &PyDict_Type,
                          &st->exact_by_if, &PyDict_Type, &st->flows_by_if, &PyList_Type, &st->dirty,
                          &PyList_Type, &st->done, &st->exact_limit, &table, &admit, &tally))
        return -1;
    st->tally = NULL;
    st->spanned = 0;
    if (tally != Py_None) { /* count-only mode */
        if (!PyList_CheckExact(tally) || PyList_GET_SIZE(tally) != 2) {
            PyErr_SetString(PyExc_ValueError, "the count-only tally must be a list [least, greatest]");
            return -1;
        }
        st->tally = tally;
    }
    st->udp_ports = st->ike_ports = NULL;
    if (admit != Py_None) { /* level 3 in C (admit.c) */
        PyObject *udp, *ike;
        if (!PyArg_ParseTuple(admit, "O!O!O!O!nO!O!O!", &PyBytes_Type, &udp, &PyBytes_Type, &ike, &PySet_Type,
                              &st->watched, &PyTuple_Type, &st->vias, &st->cache_limit, &PyDict_Type, &st->other,
                              &PyList_Type, &st->oldest, &PyList_Type, &st->refused_at))
            return -1;
        if (PyBytes_GET_SIZE(udp) != 8192 || PyBytes_GET_SIZE(ike) != 8192 || PyTuple_GET_SIZE(st->vias) != 4 ||
            st->cache_limit < 1 || PyList_GET_SIZE(st->oldest) != 1 || PyList_GET_SIZE(st->refused_at) != 1) {
            PyErr_SetString(PyExc_ValueError, "admit state: (udp ports, ike ports (8192-byte maps), watched, "
                                              "4 vias, limit, other, [oldest], [refused at])");
            return -1;
        }
        st->udp_ports = (const unsigned char *)PyBytes_AS_STRING(udp);
        st->ike_ports = (const unsigned char *)PyBytes_AS_STRING(ike);
    }
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
    const unsigned char *sp_v = spans->buf, *mp_v = minpay->buf;
    /* the same two tables as the last call that passed these checks (bytes: immutable) */
    static PyObject *checked_spans = NULL, *checked_minpay = NULL;
    if (sp == checked_spans && mp == checked_minpay) goto checked;
    if (spans->len != 256 || minpay->len != 256) {
        PyBuffer_Release(spans);
        PyBuffer_Release(minpay);
        PyErr_SetString(PyExc_ValueError, "span tables must have 256 entries");
        return -1;
    }
    /* Every reader below trusts these tables for its bounds: a span is 0 (not fast) or covers at
     * least an IPv6 header, and IPv6-in-IPv6's layout (two 40-byte headers, split 38 + 34 around the
     * inner payload length in flow_key/flow_bytes) is fixed here. An edit of KEY_SPAN that breaks
     * this must fail loudly, not read out of bounds. */
    for (int nh = 0; nh < 256; nh++) {
        int bad = sp_v[nh] == 0 ? mp_v[nh] != 0 : sp_v[nh] < MIN_SPAN || (nh == 41 && sp_v[nh] != TUNNEL_SPAN);
        if (bad) {
            PyBuffer_Release(spans);
            PyBuffer_Release(minpay);
            PyErr_Format(PyExc_ValueError,
                         "KEY_SPAN/MIN_PAYLOAD entry %d (%d, %d) is outside what the accelerator reads safely",
                         nh, sp_v[nh], mp_v[nh]);
            return -1;
        }
    }
    if (PyBytes_CheckExact(sp) && PyBytes_CheckExact(mp)) { /* kept alive here: the pointers stay theirs */
        Py_INCREF(sp);
        Py_INCREF(mp);
        Py_XSETREF(checked_spans, sp);
        Py_XSETREF(checked_minpay, mp);
    }
checked:
    st->spans = sp_v;
    st->minpay = mp_v;
    st->cur_if = -1;
    st->exacts = st->flows = NULL;
    st->cur_lt = -1;
    st->have_plan = 0;
    st->counted = 0;
    st->new_flow = 0;
    st->ahead_key = NULL;
    st->refused = NULL;
    return 0;
}

/* Count-only mode, before a return to Python: the least and greatest time counted in this call
 * merged into the tally list (FastPath._tally). 0, or -1 with an error set. */
int merge_tally(State *st) {
    if (st->tally == NULL || !st->spanned) return 0;
    PyObject *lo = PyList_GET_ITEM(st->tally, 0), *hi = PyList_GET_ITEM(st->tally, 1);
    double known_lo = 0, known_hi = 0;
    if (lo != Py_None && (known_lo = PyFloat_AsDouble(lo)) == -1.0 && PyErr_Occurred()) return -1;
    if (hi != Py_None && (known_hi = PyFloat_AsDouble(hi)) == -1.0 && PyErr_Occurred()) return -1;
    if (lo == Py_None || st->lo < known_lo) {
        PyObject *value = PyFloat_FromDouble(st->lo);
        if (value == NULL || PyList_SetItem(st->tally, 0, value) < 0) return -1;
    }
    if (hi == Py_None || st->hi > known_hi) {
        PyObject *value = PyFloat_FromDouble(st->hi);
        if (value == NULL || PyList_SetItem(st->tally, 1, value) < 0) return -1;
    }
    st->spanned = 0;
    return 0;
}

/* Select the plan of a link type; 0 when it has none (the packet goes to Python). */
int select_plan(State *st, long linktype) {
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
int select_interface(State *st, long long interface) {
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

/* Count one packet into an entry: FastPath.filter's "hit" and inlined _roll. 1 done, 0 not
 * countable here (Python decides), -1 error. Nothing is changed when it returns 0. */
int count(State *st, PyObject *entry, double time, uint32_t wire_length) {
    if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != 7) return 0;
    if (!(time > -9.2e18 && time < 9.2e18)) return 0;
    if (st->tally != NULL) return tally(st, time); /* count-only: the entry is not touched */
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
        PyObject *t = PyFloat_FromDouble(time);
        if (t == NULL || PyList_SetItem(entry, 3, t) < 0) return -1;
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
PyObject *flow_key(State *st, const unsigned char *key, int nh, long *plen_out) {
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
int offer_dicts(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
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
