/* _fastscan: optional C accelerator for dissector.fastpath (see FastPath.filter).
 *
 * It walks consecutive pcapng Enhanced Packet Blocks (or pcap records) of a buffer and
 * counts every packet that FastPath.filter would count through its *caches* (levels 1 and
 * 2 of fastpath.py) into the very same Python entry lists. Level 2 lives in a C-native
 * FlowTable (flowtable.c) filled from Python's flows dicts, so a packet of a known flow costs no
 * Python object at all; the dict levels remain for a FastPath without a table. At
 * the first record it cannot settle that way (another block type, a failed check, a cache
 * miss, anything unusual) it stops *before* that record and returns, so the Python reader
 * yields it and the Python code handles it. The tables (KEY_SPAN, MIN_PAYLOAD, key plans,
 * EXACT_LIMIT) come from Python, so levels 1-2 give the pure-Python path's results by
 * construction. One piece of classification is done here (admit.c): the first packet of a new
 * flow whose class depends only on fixed-offset bytes is classified and learned as
 * FastPath._admit would; anything else about a new flow is left to Python's _admit.
 *
 * Never raises on bad bytes: every read is bounds-checked against the buffer; a Python error
 * is only possible for bad *arguments* (or out of memory).
 */
/* fastscan.h: what the parts of _fastscan share (internal; module.c holds the module).
 * Everything not listed here stays static in its own file. */
#ifndef FASTSCAN_H
#define FASTSCAN_H

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
    /* level 3 (admit.c), from the state's optional 10th item; udp_ports NULL: off */
    const unsigned char *udp_ports, *ike_ports; /* 65536-bit maps: DSMIPv6 UDP ports, IKE ports */
    PyObject *watched;            /* FastPath's watched addresses (a set): non-empty -> Python admits */
    PyObject *vias;               /* (PLAIN, TUNNEL, ROUTE_OPTIMISED, UDP): the canonical keys' strings */
    Py_ssize_t cache_limit;       /* CACHE_LIMIT: flows kept per interface */
    PyObject *other;              /* FastPath._other: {(interface, second, canonical): entry} */
    PyObject *oldest;             /* FastPath._other_oldest: [no key of _other has an earlier second] */
    PyObject *refused_at;         /* [buffer offset of the frame the walk stopped at, when refused; else -1] */
    const unsigned char *refused; /* the frame level 3 found refused by Classifier (set by admit_other) */
    /* count-only mode (FastPath.count_only, `mcoaviz decode`), from the state's optional 11th item:
     * FastPath._tally, [least, greatest] time of the packets counted since its last flush (None,
     * None: none). Nothing is counted into entries then: a packet only moves lo/hi here, which
     * end_call merges into the list. NULL: counting into entries, as for the engine's rows. */
    PyObject *tally;
    double lo, hi;
    int spanned; /* lo and hi hold a packet's time */
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

#define MIN_SPAN 40     /* a fast span covers at least the IPv6 header */
#define TUNNEL_SPAN 80  /* IPv6-in-IPv6: outer + inner header, the layout flow_key splits */
#define FLOW_KEY_MAX 120 /* longest flow key kept here (longer ones take the dict path) */
/* Ethernet with one 802.1Q tag has its own key plan (fastclassify.VLAN_PLAN), filed in the
 * plans dict under this pseudo link type (fastpath.VLAN_LINKTYPE); it never occurs in a file. */
#define VLAN_LINKTYPE (-2L)

static inline long plan_linktype(const unsigned char *frame, uint32_t caplen, long linktype) {
    if (linktype == 1 && caplen > 14 && frame[12] == 0x81 && frame[13] == 0x00) return VLAN_LINKTYPE;
    return linktype;
}

struct FlowTable;

static inline uint32_t rd32(const unsigned char *p, int big) {
    return big ? ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
               : ((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
}

static inline unsigned rd16be(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

/* Count-only mode: one packet counted, its time kept if it is the least or greatest so far. */
static inline int tally(State *st, double time) {
    if (!st->spanned) {
        st->lo = st->hi = time;
        st->spanned = 1;
    } else if (time < st->lo) {
        st->lo = time;
    } else if (time > st->hi) {
        st->hi = time;
    }
    st->counted++;
    return 1;
}

static inline int set_item(PyObject *list, Py_ssize_t i, PyObject *value) {
    if (value == NULL) return -1;
    PyList_SET_ITEM(list, i, value); /* steals value */
    return 0;
}

/* Shared between the files only; hidden so the extension exports nothing but its PyInit. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(hidden)
#endif

/* levels.c: the state tuple and the dict levels */
int parse_state(PyObject *tuple, State *st, Py_buffer *spans, Py_buffer *minpay);
int merge_tally(State *st);
int select_plan(State *st, long linktype);
int select_interface(State *st, long long interface);
int count(State *st, PyObject *entry, double time, uint32_t wire_length);
PyObject *flow_key(State *st, const unsigned char *key, int nh, long *plen_out);
int offer_dicts(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                long long interface, long linktype, double time);

/* flowtable.c: the C flow table */
extern PyTypeObject FlowTableType;
int table_write_back(struct FlowTable *t);
void prefetch_slot(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                   long long interface, long linktype);
int offer_table(State *st, struct FlowTable *t, const unsigned char *frame, uint32_t caplen, int nh,
                uint32_t wire_length, long long interface, long linktype, double time);

/* admit.c: level 3 (1 counted, 0 declined: Python's _admit decides, -1 error) -- a new flow
 * whose class is cacheable (learned, *learned its entry), or other bulk data (per second) */
int admit_flow(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
               long long interface, long linktype, double time, PyObject *flow, long plen, PyObject **learned);
/* count-only mode: 1 when admit_flow would learn this packet's flow (the table alone learns it
 * then: no entry, no canonical key), else 0 (admit_other or Python decides) */
int admit_known_class(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length, long linktype,
                      double time);
int admit_other(State *st, const unsigned char *frame, uint32_t caplen, uint32_t wire_length,
                long long interface, long linktype, double time);

/* walk.c: the record walks */
extern const char pcapng_doc[], pcap_doc[];
PyObject *scan_pcapng(PyObject *self, PyObject *args);
PyObject *scan_pcap(PyObject *self, PyObject *args);

/* flush.c: FastPath.flush's row building */
extern const char flush_items_doc[], order_rows_doc[], instances_doc[], drop_idle_doc[],
    address_texts_doc[];
PyObject *flush_items(PyObject *self, PyObject *args);
PyObject *order_rows(PyObject *self, PyObject *args);
PyObject *drop_idle(PyObject *self, PyObject *args);
PyObject *address_texts(PyObject *self, PyObject *args);
PyObject *instances(PyObject *self, PyObject *args);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#endif /* FASTSCAN_H */
