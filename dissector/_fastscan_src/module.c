/* _fastscan module: the method table and PyInit (the parts: see fastscan.h). */
#include "fastscan.h"

static PyMethodDef methods[] = {
    {"instances", instances, METH_VARARGS, instances_doc},
    {"order_rows", order_rows, METH_VARARGS, order_rows_doc},
    {"flush_items", flush_items, METH_VARARGS, flush_items_doc},
    {"drop_idle", drop_idle, METH_VARARGS, drop_idle_doc},
    {"address_texts", address_texts, METH_NOARGS, address_texts_doc},
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
