/* _fastscan walks: pcapng Enhanced Packet Blocks and pcap records, one offer() per packet. */
#include "fastscan.h"

/* FastPath.filter's cache levels for one packet: 1 counted, 0 for Python, -1 error. */
static int cache_levels(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                        long long interface, long linktype, double time) {
    if (st->table != NULL) {
        int ok = select_plan(st, linktype);
        if (ok <= 0) return ok;
        if ((long)caplen < st->need) return 0;
        int nh = frame[st->ip + 6];
        long span = st->spans[nh];
        if (!span || (long)caplen < st->ip + span) return 0;
        /* a miss here is a flow Python's dict does not know (or a packet it must see) */
        if (st->ip - st->start + 4 + span - 6 <= FLOW_KEY_MAX)
            return offer_table(st, st->table, frame, caplen, nh, wire_length, interface, linktype, time);
    }
    return offer_dicts(st, frame, caplen, wire_length, interface, linktype, time);
}

/* FastPath.filter for one packet: the cache levels (level 3 for new cacheable flows inside
 * them), then level 3 for other bulk data. */
static int offer(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                 long long interface, long linktype, double time) {
    st->new_flow = 0;
    st->refused = NULL;
    linktype = plan_linktype(frame, caplen, linktype);
    int done = cache_levels(st, frame, caplen, wire_length, interface, linktype, time);
    if (done != 0 || st->udp_ports == NULL) return done;
    return admit_other(st, frame, caplen, wire_length, interface, linktype, time);
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
    if (!error && merge_tally(st) < 0) error = 1; /* count-only mode: what this call counted, for flush */
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

/* Where the walk stopped, when level 3 found that packet refused by Classifier: FastPath.filter
 * then skips its _admit. The offset of the frame in the buffer, else -1. */
static int mark_refused(State *st, const unsigned char *frame, Py_ssize_t offset) {
    if (st->udp_ports == NULL) return 0;
    PyObject *at = PyLong_FromSsize_t(st->refused == frame ? offset : -1);
    return at == NULL ? -1 : PyList_SetItem(st->refused_at, 0, at);
}

/* The buffers both walks hold for one call: the FastPath state's tables and the capture. */
static int begin_walk(PyObject *state, PyObject *bufobj, State *st, Py_buffer *view, Py_buffer *spans,
                      Py_buffer *minpay) {
    if (parse_state(state, st, spans, minpay) < 0) return -1;
    if (PyObject_GetBuffer(bufobj, view, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(spans);
        PyBuffer_Release(minpay);
        return -1;
    }
    return 0;
}

static void release_walk(Py_buffer *view, Py_buffer *spans, Py_buffer *minpay) {
    PyBuffer_Release(view);
    PyBuffer_Release(spans);
    PyBuffer_Release(minpay);
}

const char pcapng_doc[] =
    "pcapng(state, buf, pos, end, number, last_time, interfaces, big_endian) -> (pos, number, last_time)\n\n"
    "Count the consecutive Enhanced Packet Blocks from pos that FastPath's caches settle; stop\n"
    "before the first other record. state is FastPath's accelerator state tuple.";

PyObject *scan_pcapng(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *state, *bufobj, *interfaces;
    Py_ssize_t pos, end, number;
    double last_time;
    int big;
    if (!PyArg_ParseTuple(args, "OOnnndO!p", &state, &bufobj, &pos, &end, &number, &last_time, &PyList_Type,
                          &interfaces, &big))
        return NULL;
    State st;
    Py_buffer view, spans, minpay;
    if (begin_walk(state, bufobj, &st, &view, &spans, &minpay) < 0) return NULL;
    const unsigned char *b = view.buf;
    if (end > view.len) end = view.len;
    if (pos < 0) pos = end;
    int error = mark_refused(&st, NULL, -1) < 0; /* nothing refused yet */
    long cached_if = -1;
    long long gid = 0;
    long linktype = 0;
    PyObject *divisor = NULL, *offset = NULL;
    double div = 1, off = 0;
    int exact_clock = 0;
    Py_ssize_t fetched = pos; /* every line before this has been prefetched */
    while (!error && pos + 32 <= end) {
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
        if (done == 0 && mark_refused(&st, p + 28, pos + 28) < 0) done = -1;
        if (done < 0) error = 1;
        if (done <= 0) break;
        last_time = time;
        number++;
        pos += blen;
    }
    release_walk(&view, &spans, &minpay);
    if (end_call(&st, error) < 0) return NULL;
    return Py_BuildValue("nndn", pos, number, last_time, st.counted);
}

const char pcap_doc[] =
    "pcap(state, buf, pos, end, number, header_length, big_endian, unit, linktype) -> (pos, number)\n\n"
    "As pcapng() for classic pcap records (interface 0).";

PyObject *scan_pcap(PyObject *Py_UNUSED(self), PyObject *args) {
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
    if (begin_walk(state, bufobj, &st, &view, &spans, &minpay) < 0) return NULL;
    const unsigned char *b = view.buf;
    if (end > view.len) end = view.len;
    if (pos < 0) pos = end;
    int error = mark_refused(&st, NULL, -1) < 0; /* nothing refused yet */
    Py_ssize_t fetched = pos; /* as in pcapng(): a stream of prefetches ahead of the chain */
    while (!error && pos + header <= end) {
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
        if (done == 0 && mark_refused(&st, p + header, pos + header) < 0) done = -1;
        if (done < 0) error = 1;
        if (done <= 0) break;
        number++;
        pos += header + caplen;
    }
    release_walk(&view, &spans, &minpay);
    if (end_call(&st, error) < 0) return NULL;
    return Py_BuildValue("nnn", pos, number, st.counted);
}
