/* _fastscan level 3, for the cacheable case: the first packet of a new flow.
 *
 * FastPath._admit classifies a packet of an unknown flow in full (Classifier.classify) and,
 * when its class depends only on fixed-offset bytes (an IPv6 packet whose deciding headers end
 * at ip + KEY_SPAN[next header]: plain data, IPv6-in-IPv6, one 24-byte type 2 routing header or
 * Home Address option, UDP on ports that are neither DSMIPv6 nor IKE), learns it as a flow. A
 * home agent sees a new TCP flight every few packets, so this runs ~10^5 times per 10^6 packets:
 * here it is done without leaving the walk. Every other outcome -- refused, not cacheable
 * (IPv4, DSMIPv6 UDP, both HAO and RH2, ...), a watched address, anything unusual -- is
 * *declined*: the walk stops before the packet and Python's _admit (the reference) decides.
 * So this file only has to be right about what it accepts: exactly the packets for which
 * Classifier.classify returns a canonical key with header_end == ip + KEY_SPAN[...], and then
 * the same key (tests/dissector/test_fastscan.py compares both on hostile bytes).
 */
#include "fastscan.h"

/* DATA_PROTOCOLS (fastclassify.py): TCP UDP DCCP no-next SCTP UDP-Lite */
static inline int data_protocol(int nh) {
    return nh == 6 || nh == 17 || nh == 33 || nh == 59 || nh == 132 || nh == 136;
}

/* parse_link's verdict for the key plans: 1 when the frame is IPv6 at st->ip with no problem
 * (what Classifier.classify needs before _ipv6, with plan.ip == link.offset). linktype is the
 * plan's (VLAN_LINKTYPE for single-tagged Ethernet); caplen >= st->need here. */
static int link_is_ipv6(const unsigned char *frame, long linktype) {
    switch (linktype) {
    case 1: /* Ethernet II, ethertype IPv6 (not a VLAN TPID, not an 802.3 length) */
        return rd16be(frame + 12) == 0x86DD;
    case VLAN_LINKTYPE: /* one 802.1Q tag, then IPv6 (a second tag moves the offset: declined) */
        return rd16be(frame + 12) == 0x8100 && rd16be(frame + 16) == 0x86DD;
    case 101: /* raw IP: the version nibble decides (checked by the caller) */
    case 229: /* raw IPv6 */
        return 1;
    case 113: /* Linux SLL: protocol at 14 */
        return rd16be(frame + 14) == 0x86DD;
    case 276: /* Linux SLL2: protocol first */
        return rd16be(frame) == 0x86DD;
    case 0:
    case 108: { /* BSD loopback: the family word, little-endian first (parse_loopback) */
        uint32_t le = (uint32_t)frame[0] | (uint32_t)frame[1] << 8 | (uint32_t)frame[2] << 16 | (uint32_t)frame[3] << 24;
        uint32_t be = (uint32_t)frame[3] | (uint32_t)frame[2] << 8 | (uint32_t)frame[1] << 16 | (uint32_t)frame[0] << 24;
        if (le == 2) return 0;
        if (le == 24 || le == 28 || le == 30) return 1;
        if (be == 2) return 0;
        return be == 24 || be == 28 || be == 30;
    }
    default:
        return 0;
    }
}

/* _home_address_option: the HAO of a Destination Options header at p holding only padding and
 * one Home Address option; 0 when it is anything else (Classifier refuses the packet). */
static int home_address_option(const unsigned char *frame, uint32_t caplen, long p, long end, long *hao_at,
                               int *next, long *after) {
    if ((long)caplen < p + 8) return 0;
    long size = ((long)frame[p + 1] + 1) * 8;
    if (p + size > end || (long)caplen < p + size) return 0;
    long o = p + 2, found = -1;
    while (o < p + size) {
        int kind = frame[o];
        if (kind == 0) {
            o++;
            continue;
        }
        if (o + 2 > p + size) return 0;
        int length = frame[o + 1];
        if (kind == 0xC9 && length == 16 && found < 0 && o + 18 <= p + size) found = o + 2;
        else if (kind != 1) return 0;
        o += 2 + length;
    }
    if (o != p + size || found < 0) return 0;
    *hao_at = found;
    *next = frame[p];
    *after = p + size;
    return 1;
}

typedef struct {
    int via; /* 0 plain, 1 tunnel, 2 route-optimised */
    long outer, inner, hao, rh2; /* offsets of the address pair(s) / addresses; -1: none */
} Class;

/* Classifier.classify restricted to its cacheable answers (see the file comment): 1 with the
 * class, 0 declined. */
static int classify(const State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                    long linktype, Class *c) {
    long n = st->ip;
    if (!link_is_ipv6(frame, linktype) || frame[n] >> 4 != 6) return 0;
    long end = n + 40 + (long)rd16be(frame + n + 4);
    if (end > (long)wire_length) return 0;
    int first = frame[n + 6], nh = first;
    long p = n + 40, hao = -1, rh2 = -1;
    if (nh == 43 && (long)caplen >= p + 24 && frame[p + 1] == 2 && frame[p + 2] == 2 && frame[p + 3] <= 1) {
        rh2 = p + 8;
        nh = frame[p];
        p += 24;
    }
    if (nh == 60 && !home_address_option(frame, caplen, p, end, &hao, &nh, &p)) return 0;
    if (p > end) return 0;
    long header_end;
    *c = (Class){0, -1, n + 8, -1, -1};
    if (hao >= 0 || rh2 >= 0) {
        /* cacheable: a single 24-byte header (both, or UDP behind it: Python's _other) */
        if (!data_protocol(nh) || nh == 17 || (hao >= 0) == (rh2 >= 0)) return 0;
        c->via = 2;
        c->hao = hao;
        c->rh2 = rh2;
        header_end = p;
    } else if (nh == 41) { /* _inner(frame, p, end, 6) */
        if ((long)caplen < p + 40 || frame[p] >> 4 != 6 || p + 40 + (long)rd16be(frame + p + 4) != end ||
            !data_protocol(frame[p + 6]))
            return 0;
        c->via = 1;
        c->outer = n + 8;
        c->inner = p + 8;
        header_end = p + 40;
    } else if (nh == 17) { /* _udp: not IKE, not DSMIPv6 (those ports are in st->decline_ports) */
        if ((long)caplen < p + 8) return 0;
        unsigned sport = rd16be(frame + p), dport = rd16be(frame + p + 2);
        if (st->decline_ports[sport >> 3] & (1u << (sport & 7)) || st->decline_ports[dport >> 3] & (1u << (dport & 7)))
            return 0;
        if (end < p + 8) return 0;
        header_end = p + 4;
    } else if (data_protocol(nh)) {
        header_end = p;
    } else {
        return 0;
    }
    /* _admit's test: the classification ends where the key plan's span does */
    return header_end == n + st->spans[first];
}

static PyObject *address_bytes(const unsigned char *frame, long at, Py_ssize_t length) {
    if (at < 0) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)frame + at, length);
}

/* The canonical key (via, outer pair | None, inner pair, HAO | None, RH2 | None). */
static PyObject *canonical_key(const State *st, const unsigned char *frame, const Class *c) {
    PyObject *parts[5] = {PyTuple_GET_ITEM(st->vias, c->via), NULL, NULL, NULL, NULL};
    Py_INCREF(parts[0]);
    parts[1] = address_bytes(frame, c->outer, 32);
    parts[2] = address_bytes(frame, c->inner, 32);
    parts[3] = address_bytes(frame, c->hao, 16);
    parts[4] = address_bytes(frame, c->rh2, 16);
    PyObject *key = NULL;
    if (parts[1] && parts[2] && parts[3] && parts[4]) key = PyTuple_New(5);
    if (key == NULL) {
        for (int i = 0; i < 5; i++) Py_XDECREF(parts[i]);
        return NULL;
    }
    PyObject_GC_UnTrack(key); /* strings, bytes and None: no cycle possible */
    for (int i = 0; i < 5; i++) PyTuple_SET_ITEM(key, i, parts[i]);
    return key;
}

int admit_flow(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
               long long interface, long linktype, double time, PyObject *flow, long plen, PyObject **learned) {
    *learned = NULL;
    if (st->decline_ports == NULL || PySet_GET_SIZE(st->watched) > 0) return 0; /* off, or _involves */
    if (st->exacts == NULL || st->flows == NULL) return 0;
    if (!(time > -9.2e18 && time < 9.2e18)) return 0;
    Class c;
    if (!classify(st, frame, caplen, wire_length, linktype, &c)) return 0;
    long long second = (long long)time; /* int(time) */
    long header_end = st->ip + st->spans[frame[st->ip + 6]];
    PyObject *canonical = canonical_key(st, frame, &c);
    if (canonical == NULL) return -1;
    PyObject *exact = PyBytes_FromStringAndSize((const char *)frame + st->start, header_end - st->start);
    PyObject *when = PyFloat_FromDouble(time);
    PyObject *key_if = PyLong_FromLongLong(interface);
    PyObject *least = PyLong_FromLong(st->need + plen);
    PyObject *entry = PyList_New(7), *value = PyTuple_New(2);
    PyObject *numbers[3] = {PyLong_FromLong(1), PyLong_FromUnsignedLong(wire_length), PyLong_FromLongLong(second)};
    if (!exact || !when || !key_if || !least || !entry || !value || !numbers[0] || !numbers[1] || !numbers[2]) {
        Py_XDECREF(exact);
        Py_XDECREF(when);
        Py_XDECREF(key_if);
        Py_XDECREF(least);
        Py_XDECREF(entry);
        Py_XDECREF(value);
        for (int i = 0; i < 3; i++) Py_XDECREF(numbers[i]);
        Py_DECREF(canonical);
        return -1;
    }
    /* the entry after _count's first roll: [1, size, time, time, canonical, interface, second] */
    PyList_SET_ITEM(entry, 0, numbers[0]);
    PyList_SET_ITEM(entry, 1, numbers[1]);
    Py_INCREF(when);
    PyList_SET_ITEM(entry, 2, when);
    PyList_SET_ITEM(entry, 3, when);
    PyList_SET_ITEM(entry, 4, canonical);
    PyList_SET_ITEM(entry, 5, key_if);
    PyList_SET_ITEM(entry, 6, numbers[2]);
    PyObject_GC_UnTrack(value); /* (least wire length, entry): as offer_dicts makes them */
    PyTuple_SET_ITEM(value, 0, least);
    Py_INCREF(entry);
    PyTuple_SET_ITEM(value, 1, entry);
    int bad = 0;
    /* _admit's order: bound both dicts, learn the flow and its exact bytes, count (roll) */
    if (PyDict_GET_SIZE(st->flows) >= st->cache_limit) PyDict_Clear(st->flows);
    if (PyDict_GET_SIZE(st->exacts) >= st->exact_limit) PyDict_Clear(st->exacts);
    bad = PyDict_SetItem(st->flows, flow, entry) < 0 || PyDict_SetItem(st->exacts, exact, value) < 0 ||
          PyList_Append(st->dirty, entry) < 0;
    Py_DECREF(value);
    Py_DECREF(exact);
    Py_DECREF(entry); /* the flows dict holds it (borrowed by the caller) */
    if (bad) return -1;
    st->counted++;
    *learned = entry;
    return 1;
}
