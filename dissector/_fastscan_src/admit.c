/* _fastscan level 3: packets FastPath._admit would count, without leaving the walk.
 *
 * FastPath._admit classifies a packet that levels 1-2 did not settle (Classifier.classify) and
 * counts it: when its class depends only on fixed-offset bytes (an IPv6 packet whose deciding
 * headers end at ip + KEY_SPAN[next header]: plain data, IPv6-in-IPv6, one 24-byte type 2
 * routing header or Home Address option, UDP on ports that are not IKE or DSMIPv6) it learns the
 * flow (admit_flow); other bulk data (IPv4, IPv4-in-IPv6, IPv6-in-IPv4, DSMIPv6 UDP, larger
 * option headers, ...) is counted under its canonical key, per second (admit_other). A home
 * agent sees a new TCP flight every few packets, and IPv4 background traffic: ~10^5 packets per
 * 10^6 went through Python for this. Everything else -- refused by Classifier (signalling,
 * ICMPv6, fragments, bad lengths, ...), IKE, a watched address, a link type without a key plan,
 * anything unusual -- is *declined*: the walk stops before the packet and Python's _admit (the
 * reference) decides. So this file only has to be right about what it accepts: exactly what
 * Classifier.classify accepts, with the same canonical key and the same cacheability
 * (tests/dissector/test_fastscan.py compares both on hostile bytes).
 */
#include "fastscan.h"

/* DATA_PROTOCOLS (fastclassify.py): TCP UDP DCCP no-next SCTP UDP-Lite */
static inline int data_protocol(int nh) {
    return nh == 6 || nh == 17 || nh == 33 || nh == 59 || nh == 132 || nh == 136;
}

static inline int port_in(const unsigned char *map, unsigned port) { return map[port >> 3] >> (port & 7) & 1; }

/* parse_link's answer for the link types with a key plan, the frame being at least st->ip + 20
 * bytes: 6 or 4 when IP of that version starts at st->ip with no problem, 0 for "raw IP: read
 * the version nibble", -1 otherwise (not IP, or a layout the plan does not describe, e.g. a
 * second VLAN tag). linktype is the plan's (VLAN_LINKTYPE for single-tagged Ethernet). */
static int link_network(const unsigned char *frame, long linktype) {
    unsigned ethertype;
    switch (linktype) {
    case 1: /* Ethernet II (a VLAN TPID or an 802.3 length is neither value) */
        ethertype = rd16be(frame + 12);
        break;
    case VLAN_LINKTYPE: /* one 802.1Q tag (plan_linktype checked the TPID) */
        ethertype = rd16be(frame + 16);
        break;
    case 101: /* raw IP */
        return 0;
    case 229: /* raw IPv6 */
        return 6;
    case 113: /* Linux SLL: protocol at 14 */
        ethertype = rd16be(frame + 14);
        break;
    case 276: /* Linux SLL2: protocol first */
        ethertype = rd16be(frame);
        break;
    case 0:
    case 108: { /* BSD loopback: the family word, little-endian first (parse_loopback) */
        uint32_t le = (uint32_t)frame[0] | (uint32_t)frame[1] << 8 | (uint32_t)frame[2] << 16 | (uint32_t)frame[3] << 24;
        uint32_t be = (uint32_t)frame[3] | (uint32_t)frame[2] << 8 | (uint32_t)frame[1] << 16 | (uint32_t)frame[0] << 24;
        if (le == 2) return 4;
        if (le == 24 || le == 28 || le == 30) return 6;
        if (be == 2) return 4;
        return be == 24 || be == 28 || be == 30 ? 6 : -1;
    }
    default:
        return -1;
    }
    return ethertype == 0x86DD ? 6 : ethertype == 0x0800 ? 4 : -1;
}

/* _home_address_option: the HAO of a Destination Options header at p holding only padding and
 * one Home Address option; 0 when it is anything else (Classifier refuses the packet). */
static int home_address_option(const unsigned char *frame, long caplen, long p, long end, long *hao_at,
                               int *next, long *after) {
    if (caplen < p + 8) return 0;
    long size = ((long)frame[p + 1] + 1) * 8;
    if (p + size > end || caplen < p + size) return 0;
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

/* _inner: the offset of the address pair of a tunnelled data packet filling frame[p:end]
 * exactly, its length in *size; -1 when there is none. */
static long inner_pair(const unsigned char *frame, long caplen, long p, long end, int version, int *size) {
    if (version == 6) {
        if (caplen < p + 40 || frame[p] >> 4 != 6 || p + 40 + (long)rd16be(frame + p + 4) != end ||
            !data_protocol(frame[p + 6]))
            return -1;
        *size = 32;
        return p + 8;
    }
    if (version == 4) {
        if (caplen < p + 20 || frame[p] != 0x45 || frame[p + 6] & 0x3F || frame[p + 7] ||
            p + (long)rd16be(frame + p + 2) != end || !data_protocol(frame[p + 9]))
            return -1;
        *size = 8;
        return p + 12;
    }
    return -1;
}

enum { VIA_PLAIN, VIA_TUNNEL, VIA_ROUTE_OPTIMISED, VIA_UDP };

typedef struct {
    int via;
    long outer, inner, hao, rh2; /* offsets of the address pairs / addresses; -1: none */
    int outer_size, inner_size;  /* 8 (IPv4) or 32 (IPv6) bytes */
} Class;

#define DECLINE 0 /* below classify(): Classifier.classify returns None */
#define CACHEABLE 1 /* _admit learns it as a flow */
#define PER_SECOND 2 /* _admit counts it in _other */
#define UNSURE 3 /* a link layer the key plan does not describe: Python decides */

/* _udp: DECLINE (refused, or IKE), or the class of UDP at p (outer address pair at pair). */
static int classify_udp(const State *st, const unsigned char *frame, long caplen, long pair, int pair_size,
                        long p, long end, Class *c) {
    if (caplen < p + 8) return DECLINE;
    unsigned sport = rd16be(frame + p), dport = rd16be(frame + p + 2);
    if (port_in(st->ike_ports, sport) || port_in(st->ike_ports, dport)) return DECLINE; /* slow path */
    if (port_in(st->udp_ports, sport) || port_in(st->udp_ports, dport)) { /* DSMIPv6 encapsulation */
        if (p + (long)rd16be(frame + p + 4) != end || caplen < p + 9) return DECLINE;
        int size;
        long inner = inner_pair(frame, caplen, p + 8, end, frame[p + 8] >> 4, &size);
        if (inner < 0) return DECLINE;
        *c = (Class){VIA_UDP, pair, inner, -1, -1, pair_size, size};
        return PER_SECOND;
    }
    if (end < p + 8) return DECLINE;
    *c = (Class){VIA_PLAIN, -1, pair, -1, -1, 0, pair_size};
    return CACHEABLE; /* header_end p + 4 (IPv4: never cacheable, the caller decides) */
}

static int classify_ipv6(const State *st, const unsigned char *frame, long caplen, long wire_length, long n,
                         Class *c) {
    if (caplen < n + 40) return DECLINE;
    long end = n + 40 + (long)rd16be(frame + n + 4);
    if (end > wire_length) return DECLINE;
    int first = frame[n + 6], nh = first;
    long p = n + 40, hao = -1, rh2 = -1, header_end;
    if (nh == 43 && caplen >= p + 24 && frame[p + 1] == 2 && frame[p + 2] == 2 && frame[p + 3] <= 1) {
        rh2 = p + 8;
        nh = frame[p];
        p += 24;
    }
    if (nh == 60 && !home_address_option(frame, caplen, p, end, &hao, &nh, &p)) return DECLINE;
    if (p > end) return DECLINE;
    int cacheable = 1;
    if (hao >= 0 || rh2 >= 0) {
        if (!data_protocol(nh)) return DECLINE;
        cacheable = nh != 17 && (hao >= 0) != (rh2 >= 0); /* a single 24-byte header */
        *c = (Class){VIA_ROUTE_OPTIMISED, -1, n + 8, hao, rh2, 0, 32};
        header_end = p;
    } else if (nh == 41 || nh == 4) {
        int size;
        long inner = inner_pair(frame, caplen, p, end, nh == 41 ? 6 : 4, &size);
        if (inner < 0) return DECLINE;
        *c = (Class){VIA_TUNNEL, n + 8, inner, -1, -1, 32, size};
        cacheable = nh == 41;
        header_end = p + 40;
    } else if (nh == 17) {
        int kind = classify_udp(st, frame, caplen, n + 8, 32, p, end, c);
        if (kind != CACHEABLE) return kind;
        header_end = p + 4;
    } else if (data_protocol(nh)) {
        *c = (Class){VIA_PLAIN, -1, n + 8, -1, -1, 0, 32};
        header_end = p;
    } else {
        return DECLINE;
    }
    /* _admit's test: the classification ends where the key plan's span does */
    return cacheable && st->spans[first] && header_end == n + st->spans[first] ? CACHEABLE : PER_SECOND;
}

static int classify_ipv4(const State *st, const unsigned char *frame, long caplen, long wire_length, long n,
                         Class *c) {
    if (frame[n] != 0x45 || frame[n + 6] & 0x3F || frame[n + 7]) return DECLINE; /* options, fragments */
    long end = n + (long)rd16be(frame + n + 2);
    if (end > wire_length || end < n + 20) return DECLINE;
    int proto = frame[n + 9];
    long p = n + 20;
    if (proto == 41) {
        int size;
        long inner = inner_pair(frame, caplen, p, end, 6, &size);
        if (inner < 0) return DECLINE;
        *c = (Class){VIA_TUNNEL, n + 12, inner, -1, -1, 8, size};
        return PER_SECOND;
    }
    if (proto == 17) return classify_udp(st, frame, caplen, n + 12, 8, p, end, c) ? PER_SECOND : DECLINE;
    if (!data_protocol(proto)) return DECLINE;
    *c = (Class){VIA_PLAIN, -1, n + 12, -1, -1, 0, 8};
    return PER_SECOND;
}

/* Classifier.classify (with _admit's cacheability test) for a frame of a link type with a key
 * plan (selected in st); DECLINE when it returns None (refused: the slow path's packet). */
static int classify(const State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                    long linktype, Class *c) {
    long n = st->ip;
    if ((long)caplen < n + 20) return UNSURE;
    int network = link_network(frame, linktype), version = frame[n] >> 4;
    if (network < 0) return UNSURE;
    if (network && network != version) return DECLINE;
    if (version == 6) return classify_ipv6(st, frame, caplen, wire_length, n, c);
    if (version == 4) return classify_ipv4(st, frame, caplen, wire_length, n, c);
    return DECLINE;
}

static PyObject *part_bytes(const unsigned char *frame, long at, Py_ssize_t size) {
    if (at < 0) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)frame + at, size);
}

/* The canonical key (via, outer pair | None, inner pair, HAO | None, RH2 | None). */
static PyObject *canonical_key(const State *st, const unsigned char *frame, const Class *c) {
    PyObject *parts[5] = {PyTuple_GET_ITEM(st->vias, c->via), NULL, NULL, NULL, NULL};
    Py_INCREF(parts[0]);
    parts[1] = part_bytes(frame, c->outer, c->outer_size);
    parts[2] = part_bytes(frame, c->inner, c->inner_size);
    parts[3] = part_bytes(frame, c->hao, 16);
    parts[4] = part_bytes(frame, c->rh2, 16);
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

/* A new entry after _count's first roll: [1, size, time, time, canonical, interface, second],
 * appended to the dirty list; in count-only mode one that counts nothing, as _admit makes it:
 * [0, 0, time, time, canonical, interface, -1]. Steals canonical; a new reference. */
static PyObject *new_entry(State *st, PyObject *canonical, long long interface, double time, long long second,
                           uint32_t wire_length) {
    int counting = st->tally == NULL;
    PyObject *entry = PyList_New(7);
    PyObject *when = PyFloat_FromDouble(time);
    PyObject *numbers[4] = {PyLong_FromLong(counting), PyLong_FromUnsignedLong(counting ? wire_length : 0),
                            PyLong_FromLongLong(interface), PyLong_FromLongLong(counting ? second : -1)};
    if (!entry || !when || !numbers[0] || !numbers[1] || !numbers[2] || !numbers[3]) {
        Py_XDECREF(entry);
        Py_XDECREF(when);
        for (int i = 0; i < 4; i++) Py_XDECREF(numbers[i]);
        Py_DECREF(canonical);
        return NULL;
    }
    PyList_SET_ITEM(entry, 0, numbers[0]);
    PyList_SET_ITEM(entry, 1, numbers[1]);
    Py_INCREF(when);
    PyList_SET_ITEM(entry, 2, when);
    PyList_SET_ITEM(entry, 3, when);
    PyList_SET_ITEM(entry, 4, canonical);
    PyList_SET_ITEM(entry, 5, numbers[2]);
    PyList_SET_ITEM(entry, 6, numbers[3]);
    if (counting && PyList_Append(st->dirty, entry) < 0) {
        Py_DECREF(entry);
        return NULL;
    }
    return entry;
}

static inline int admitting(const State *st, double time) {
    /* off, or a watched address (_involves is Python's), or no int(time) */
    return st->udp_ports != NULL && PySet_GET_SIZE(st->watched) == 0 && time > -9.2e18 && time < 9.2e18;
}

int admit_flow(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
               long long interface, long linktype, double time, PyObject *flow, long plen, PyObject **learned) {
    *learned = NULL;
    if (!admitting(st, time) || st->exacts == NULL || st->flows == NULL) return 0;
    Class c;
    if (classify(st, frame, caplen, wire_length, linktype, &c) != CACHEABLE) return 0;
    long header_end = st->ip + st->spans[frame[st->ip + 6]];
    PyObject *canonical = canonical_key(st, frame, &c);
    if (canonical == NULL) return -1;
    PyObject *exact = PyBytes_FromStringAndSize((const char *)frame + st->start, header_end - st->start);
    PyObject *least = PyLong_FromLong(st->need + plen);
    PyObject *value = PyTuple_New(2);
    if (!exact || !least || !value) {
        Py_XDECREF(exact);
        Py_XDECREF(least);
        Py_XDECREF(value);
        Py_DECREF(canonical);
        return -1;
    }
    /* _admit's order: bound both dicts, learn the flow and its exact bytes, count (roll) */
    if (PyDict_GET_SIZE(st->flows) >= st->cache_limit) PyDict_Clear(st->flows);
    if (PyDict_GET_SIZE(st->exacts) >= st->exact_limit) PyDict_Clear(st->exacts);
    PyObject *entry = new_entry(st, canonical, interface, time, (long long)time, wire_length);
    if (entry == NULL) {
        Py_DECREF(exact);
        Py_DECREF(least);
        Py_DECREF(value);
        return -1;
    }
    PyObject_GC_UnTrack(value); /* (least wire length, entry): as offer_dicts makes them */
    PyTuple_SET_ITEM(value, 0, least);
    PyTuple_SET_ITEM(value, 1, entry); /* steals the new reference */
    int bad = PyDict_SetItem(st->flows, flow, entry) < 0 || PyDict_SetItem(st->exacts, exact, value) < 0;
    Py_DECREF(value);
    Py_DECREF(exact);
    if (bad) return -1;
    if (st->tally != NULL) tally(st, time);
    else st->counted++;
    *learned = entry; /* borrowed: the flows dict holds it */
    return 1;
}

int admit_known_class(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length, long linktype,
                      double time) {
    Class c;
    return admitting(st, time) && classify(st, frame, caplen, wire_length, linktype, &c) == CACHEABLE;
}

int admit_other(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                long long interface, long linktype, double time) {
    if (!admitting(st, time) || select_plan(st, linktype) <= 0) {
        PyErr_Clear(); /* (a plan Python cannot use either: Python reports it) */
        return 0;
    }
    Class c;
    int kind = classify(st, frame, caplen, wire_length, linktype, &c);
    if (kind == DECLINE) st->refused = frame; /* Python's _admit would only say so again */
    if (kind != PER_SECOND) return 0;
    if (st->tally != NULL) return tally(st, time); /* count-only: no entry per second either */
    long long second = (long long)time; /* int(time) */
    PyObject *canonical = canonical_key(st, frame, &c);
    PyObject *at_if = PyLong_FromLongLong(interface), *at_second = PyLong_FromLongLong(second);
    PyObject *key = canonical && at_if && at_second ? PyTuple_Pack(3, at_if, at_second, canonical) : NULL;
    Py_XDECREF(at_if);
    Py_XDECREF(at_second);
    if (key == NULL) {
        Py_XDECREF(canonical);
        return -1;
    }
    PyObject_GC_UnTrack(key);
    PyObject *entry = PyDict_GetItemWithError(st->other, key);
    int result = 1;
    if (entry == NULL) {
        if (PyErr_Occurred()) goto failed;
        /* a new key: its second may be the earliest _other holds (FastPath._other_oldest) */
        PyObject *oldest = PyList_GET_ITEM(st->oldest, 0);
        int overflow;
        long long known = PyLong_AsLongLongAndOverflow(oldest, &overflow);
        if (known == -1 && PyErr_Occurred()) goto failed;
        Py_INCREF(canonical);
        entry = new_entry(st, canonical, interface, time, second, wire_length);
        if (entry == NULL) goto failed;
        int bad = PyDict_SetItem(st->other, key, entry);
        Py_DECREF(entry);
        if (bad < 0) goto failed;
        if (overflow > 0 || (!overflow && second < known)) {
            PyObject *now = PyLong_FromLongLong(second);
            if (now == NULL || PyList_SetItem(st->oldest, 0, now) < 0) goto failed;
        }
        st->counted++;
    } else if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != 7) {
        result = 0;
    } else {
        /* _count: a running entry of this second gets the packet, else it rolls (count() does
         * both when the entry has packets; a zeroed one rolls whatever its second says) */
        int running = PyObject_IsTrue(PyList_GET_ITEM(entry, 0));
        if (running < 0) goto failed;
        if (running) {
            result = count(st, entry, time, wire_length);
        } else {
            PyObject *t = PyFloat_FromDouble(time);
            PyObject *values[3] = {PyLong_FromLong(1), PyLong_FromUnsignedLong(wire_length), PyLong_FromLongLong(second)};
            if (t == NULL || !values[0] || !values[1] || !values[2] || PyList_Append(st->dirty, entry) < 0) {
                Py_XDECREF(t);
                for (int i = 0; i < 3; i++) Py_XDECREF(values[i]);
                goto failed;
            }
            Py_INCREF(t);
            PyList_SetItem(entry, 0, values[0]);
            PyList_SetItem(entry, 1, values[1]);
            PyList_SetItem(entry, 2, t);
            PyList_SetItem(entry, 3, t);
            PyList_SetItem(entry, 6, values[2]);
            st->counted++;
        }
    }
    Py_DECREF(key);
    Py_DECREF(canonical);
    return result;
failed:
    Py_DECREF(key);
    Py_DECREF(canonical);
    return -1;
}
