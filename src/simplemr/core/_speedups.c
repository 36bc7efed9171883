/* The compiled twin of simplemr/core/pure.py and of partition.stable_hash.
 *
 * Every function here does exactly what its pure-Python namesake does (the tests
 * run both and compare); it only skips the interpreter on the per-pair and
 * per-key paths: the map-side table, the stable hash, the partition split of a
 * spill and the reduce-side merge of decoded batches.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The exception being raised, taken and put back (PyErr_Fetch before 3.12). */
static PyObject *PyErr_GetRaisedException_compat(void) {
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    if (type == NULL) return NULL;
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != NULL) PyException_SetTraceback(value, traceback);
    Py_DECREF(type);
    Py_XDECREF(traceback);
    return value;
#endif
}

static void PyErr_SetRaisedException_compat(PyObject *exception) {
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exception);
#else
    if (exception == NULL) return;
    PyObject *type = (PyObject *)Py_TYPE(exception);
    Py_INCREF(type);
    PyErr_Restore(type, exception, PyException_GetTraceback(exception));
#endif
}

/* ---- the stable hash: CRC-32 and Adler-32 of the key's bytes, mixed ---------- */

/* zlib's CRC-32 (IEEE 802.3, reflected), eight bytes a step ("slicing by 8"):
 * table k gives the CRC of a byte followed by k zero bytes. */
static uint32_t crc32_table[8][256];

static void crc32_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
        crc32_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++)
            crc32_table[k][n] = crc32_table[0][crc32_table[k - 1][n] & 0xFF] ^
                                (crc32_table[k - 1][n] >> 8);
}

static uint32_t crc32_of(const uint8_t *data, size_t size) {
    uint32_t c = 0xFFFFFFFFU;
    for (; size >= 8; size -= 8, data += 8) {
        uint32_t low = c ^ ((uint32_t)data[0] | (uint32_t)data[1] << 8 |
                            (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24);
        c = crc32_table[7][low & 0xFF] ^ crc32_table[6][(low >> 8) & 0xFF] ^
            crc32_table[5][(low >> 16) & 0xFF] ^ crc32_table[4][low >> 24] ^
            crc32_table[3][data[4]] ^ crc32_table[2][data[5]] ^ crc32_table[1][data[6]] ^
            crc32_table[0][data[7]];
    }
    while (size--) c = crc32_table[0][(c ^ *data++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFU;
}

/* zlib's Adler-32. */
static uint32_t adler32_of(const uint8_t *data, size_t size) {
    uint32_t a = 1, b = 0;
    while (size > 0) {
        size_t run = size < 5552 ? size : 5552; /* no overflow before the modulo */
        size -= run;
        while (run--) {
            a += *data++;
            b += a;
        }
        a %= 65521U;
        b %= 65521U;
    }
    return (b << 16) | a;
}

/* Both checksums of data in one 64-bit word: partition.checksum64. */
static uint64_t checksum64(const uint8_t *data, size_t size) {
    return ((uint64_t)adler32_of(data, size) << 32) | crc32_of(data, size);
}

/* MurmurHash3's 64-bit finalizer: a bijection that mixes every bit into every bit. */
static uint64_t fmix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDULL;
    k ^= k >> 33;
    k *= 0xC4CEB9FE1A85EC53ULL;
    k ^= k >> 33;
    return k;
}

/* ---- key_bytes: the canonical bytes of a key --------------------------------- */

typedef struct {
    char *data;
    Py_ssize_t size;
    Py_ssize_t capacity;
    char inline_space[256];
} Buffer;

static void buffer_init(Buffer *b) {
    b->data = b->inline_space;
    b->size = 0;
    b->capacity = sizeof b->inline_space;
}

static void buffer_free(Buffer *b) {
    if (b->data != b->inline_space) PyMem_Free(b->data);
}

static int buffer_put(Buffer *b, const char *data, Py_ssize_t size) {
    if (b->size + size > b->capacity) {
        Py_ssize_t capacity = b->capacity;
        while (capacity < b->size + size) capacity *= 2;
        char *grown = PyMem_Malloc(capacity);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(grown, b->data, b->size);
        buffer_free(b);
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->size, data, size);
    b->size += size;
    return 0;
}

/* Write the decimal digits of number, as "%lld" would, ending at end; return the start. */
static char *decimal(char *end, long long number) {
    unsigned long long magnitude = number < 0 ? 0ULL - (unsigned long long)number
                                              : (unsigned long long)number;
    do {
        *--end = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (number < 0) *--end = '-';
    return end;
}

/* tag, then number in decimal. */
static int buffer_put_decimal(Buffer *b, char tag, long long number) {
    char text[32];
    char *start = decimal(text + sizeof text, number);
    *--start = tag;
    return buffer_put(b, start, (text + sizeof text) - start);
}

/* The Python key_bytes, for every key this file does not encode itself. */
static PyObject *python_key_bytes = NULL;
/* The Python pair unpacking, for a mapper output that is not a 2-tuple. */
static PyObject *python_pair = NULL;
static PyObject *python_pairs_of = NULL;
/* partition.canonical_key, for a reduce-side key seen for the first time. */
static PyObject *python_canonical_key = NULL;
/* core.pure.MapCursor, and the names of its fields. */
static PyObject *map_cursor_type = NULL;
static PyObject *name_taken = NULL, *name_record = NULL, *name_pairs = NULL;

static int put_bytes_object(Buffer *b, PyObject *bytes) {
    if (!PyBytes_Check(bytes)) {
        PyErr_SetString(PyExc_TypeError, "key_bytes did not return bytes");
        return -1;
    }
    return buffer_put(b, PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes));
}

static int put_ascii_str(Buffer *b, char tag, PyObject *text) {
    /* str(x) of an int is ASCII */
    if (buffer_put(b, &tag, 1) < 0) return -1;
    return buffer_put(b, (const char *)PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text));
}

static int encode_key(Buffer *b, PyObject *key);

static int encode_int_object(Buffer *b, PyObject *number) {
    int overflow = 0;
    long long value = PyLong_AsLongLongAndOverflow(number, &overflow);
    if (value == -1 && PyErr_Occurred()) return -1;
    if (!overflow) return buffer_put_decimal(b, 'i', value);
    /* As partition.py's _int_bytes: decimal up to 2048 bits, hex() beyond. */
    PyObject *bits = PyObject_CallMethod(number, "bit_length", NULL);
    if (bits == NULL) return -1;
    long long count = PyLong_AsLongLong(bits);
    Py_DECREF(bits);
    if (count == -1 && PyErr_Occurred()) return -1;
    int big = count > 2048;
    PyObject *text = big ? PyNumber_ToBase(number, 16) : PyObject_Str(number);
    if (text == NULL) return -1;
    int status = put_ascii_str(b, big ? 'I' : 'i', text);
    Py_DECREF(text);
    return status;
}

static int encode_float(Buffer *b, PyObject *key) {
    double x = PyFloat_AS_DOUBLE(key);
    if (isnan(x)) return buffer_put(b, "nan", 3);
    if (!isinf(x) && floor(x) == x) {
        if (fabs(x) < 9.0e18) return buffer_put_decimal(b, 'i', (long long)x);
        PyObject *whole = PyLong_FromDouble(x);
        if (whole == NULL) return -1;
        int status = encode_int_object(b, whole);
        Py_DECREF(whole);
        return status;
    }
    Py_hash_t hash = PyObject_Hash(key);
    if (hash == -1 && PyErr_Occurred()) return -1;
    return buffer_put_decimal(b, 'n', (long long)hash);
}

/* "<length>:s<text>" for an ASCII str item of a tuple, its length known up front:
 * what encode_tuple would write for it, without moving it into place. */
static int put_ascii_item(Buffer *b, PyObject *text) {
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    char prefix[32];
    char *end = prefix + sizeof prefix;
    *--end = 's';
    *--end = ':';
    char *first = decimal(end, (long long)length + 1);
    if (buffer_put(b, first, (prefix + sizeof prefix) - first) < 0) return -1;
    return buffer_put(b, (const char *)PyUnicode_DATA(text), length);
}

static int encode_tuple(Buffer *b, PyObject *key) {
    Py_ssize_t count = PyTuple_GET_SIZE(key);
    if (buffer_put_decimal(b, 't', (long long)count) < 0) return -1;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyTuple_GET_ITEM(key, i);
        if (PyUnicode_CheckExact(item) && PyUnicode_IS_ASCII(item)) { /* the common item */
            if (put_ascii_item(b, item) < 0) return -1;
            continue;
        }
        /* "<length>:<item>": the item is encoded in place, then its length put before it. */
        Py_ssize_t start = b->size;
        if (encode_key(b, item) < 0) return -1;
        Py_ssize_t size = b->size - start;
        char prefix[32];
        char *end = prefix + sizeof prefix;
        *--end = ':';
        char *first = decimal(end, (long long)size);
        Py_ssize_t width = (prefix + sizeof prefix) - first;
        if (buffer_put(b, first, width) < 0) return -1; /* make room, then shift */
        memmove(b->data + start + width, b->data + start, (size_t)size);
        memcpy(b->data + start, first, (size_t)width);
    }
    return 0;
}

static int encode_key_unguarded(Buffer *b, PyObject *key);

/* A key nested deeper than the interpreter's recursion limit raises RecursionError,
 * as the pure key_bytes does, rather than overflowing the C stack. */
static int encode_key(Buffer *b, PyObject *key) {
    if (Py_EnterRecursiveCall(" while encoding a key")) return -1;
    int status = encode_key_unguarded(b, key);
    Py_LeaveRecursiveCall();
    return status;
}

static int encode_key_unguarded(Buffer *b, PyObject *key) {
    PyTypeObject *kind = Py_TYPE(key);
    if (kind == &PyUnicode_Type) {
        if (PyUnicode_IS_ASCII(key)) {
            if (buffer_put(b, "s", 1) < 0) return -1;
            return buffer_put(b, (const char *)PyUnicode_DATA(key), PyUnicode_GET_LENGTH(key));
        }
        PyObject *encoded = PyUnicode_AsEncodedString(key, "utf-8", "surrogatepass");
        if (encoded == NULL) return -1;
        int status = buffer_put(b, "s", 1);
        if (status == 0) status = put_bytes_object(b, encoded);
        Py_DECREF(encoded);
        return status;
    }
    if (kind == &PyLong_Type) return encode_int_object(b, key);
    if (kind == &PyBytes_Type) {
        if (buffer_put(b, "b", 1) < 0) return -1;
        return put_bytes_object(b, key);
    }
    if (key == Py_None) return buffer_put(b, "N", 1);
    if (kind == &PyTuple_Type) return encode_tuple(b, key);
    if (kind == &PyFloat_Type) return encode_float(b, key);
    if (kind == &PyBool_Type) return buffer_put(b, key == Py_True ? "i1" : "i0", 2);
    if (python_key_bytes == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "simplemr.core._speedups is not configured");
        return -1;
    }
    PyObject *encoded = PyObject_CallOneArg(python_key_bytes, key);
    if (encoded == NULL) return -1;
    int status = put_bytes_object(b, encoded);
    Py_DECREF(encoded);
    return status;
}

/* The stable hash of key with salt (checksum64 of its bytes); 0 on success. */
static int hash_key(PyObject *key, uint64_t salt, uint64_t *hash) {
    Buffer b;
    buffer_init(&b);
    if (encode_key(&b, key) < 0) {
        buffer_free(&b);
        return -1;
    }
    *hash = fmix64(checksum64((const uint8_t *)b.data, (size_t)b.size) ^ salt);
    buffer_free(&b);
    return 0;
}

/* The salt's own checksum64 (the empty salt's when salt is NULL); 0 on success. */
static int parse_salt(PyObject *salt, uint64_t *word) {
    if (salt == NULL) {
        *word = checksum64((const uint8_t *)"", 0);
        return 0;
    }
    if (!PyBytes_Check(salt)) {
        PyErr_SetString(PyExc_TypeError, "salt must be bytes");
        return -1;
    }
    if (PyBytes_GET_SIZE(salt) > 64) {
        PyErr_SetString(PyExc_ValueError, "salt must be at most 64 bytes");
        return -1;
    }
    *word = checksum64((const uint8_t *)PyBytes_AS_STRING(salt), (size_t)PyBytes_GET_SIZE(salt));
    return 0;
}

static PyObject *stable_hash(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "stable_hash(key, salt=b'')");
        return NULL;
    }
    uint64_t salt, hash;
    if (parse_salt(nargs == 2 ? args[1] : NULL, &salt) < 0) return NULL;
    if (hash_key(args[0], salt, &hash) < 0) return NULL;
    return PyLong_FromUnsignedLongLong(hash);
}

static PyObject *key_bytes(PyObject *module, PyObject *key) {
    Buffer b;
    buffer_init(&b);
    if (encode_key(&b, key) < 0) {
        buffer_free(&b);
        return NULL;
    }
    PyObject *encoded = PyBytes_FromStringAndSize(b.data, b.size);
    buffer_free(&b);
    return encoded;
}

static int parse_count(PyObject *object, const char *name, Py_ssize_t *count) {
    *count = PyLong_AsSsize_t(object);
    if (*count == -1 && PyErr_Occurred()) return -1;
    if (*count < 1) {
        PyErr_Format(PyExc_ValueError, "%s must be at least 1", name);
        return -1;
    }
    return 0;
}

static PyObject *partition_of(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 2 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "partition_of(key, partitions, salt=b'')");
        return NULL;
    }
    Py_ssize_t partitions;
    uint64_t salt, hash;
    if (parse_count(args[1], "partitions", &partitions) < 0) return NULL;
    if (parse_salt(nargs == 3 ? args[2] : NULL, &salt) < 0) return NULL;
    if (partitions == 1) return PyLong_FromLong(0);
    if (hash_key(args[0], salt, &hash) < 0) return NULL;
    return PyLong_FromUnsignedLongLong(hash % (uint64_t)partitions);
}

/* spread(table, slots, salt=b'') -> a list of `slots` lists of (key, values) */
static PyObject *spread(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 2 || nargs > 3 || !PyDict_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "spread(table: dict, slots, salt=b'')");
        return NULL;
    }
    PyObject *table = args[0];
    Py_ssize_t slots;
    uint64_t salt;
    if (parse_count(args[1], "slots", &slots) < 0) return NULL;
    if (parse_salt(nargs == 3 ? args[2] : NULL, &salt) < 0) return NULL;
    PyObject *runs = PyList_New(slots);
    if (runs == NULL) return NULL;
    int collecting = PyGC_Disable();  /* the runs' tuples hold no cycles */
    for (Py_ssize_t i = 0; i < slots; i++) {
        PyObject *run = PyList_New(0);
        if (run == NULL) goto fail;
        PyList_SET_ITEM(runs, i, run);
    }
    Py_ssize_t position = 0;
    PyObject *key, *values;
    Py_ssize_t size = PyDict_GET_SIZE(table);
    while (PyDict_Next(table, &position, &key, &values)) {
        uint64_t slot = 0;
        PyObject *item = PyTuple_Pack(2, key, values);  /* holds both while Python runs */
        if (item == NULL) goto fail;
        if (slots > 1) {
            uint64_t hash;
            if (hash_key(key, salt, &hash) < 0) {
                Py_DECREF(item);
                goto fail;
            }
            slot = hash % (uint64_t)slots;
        }
        if (PyDict_GET_SIZE(table) != size) {  /* a key's encoding changed the table */
            Py_DECREF(item);
            PyErr_SetString(PyExc_RuntimeError, "dictionary changed size during iteration");
            goto fail;
        }
        int status = PyList_Append(PyList_GET_ITEM(runs, slot), item);
        Py_DECREF(item);
        if (status < 0) goto fail;
    }
    if (collecting) PyGC_Enable();
    return runs;
fail:
    if (collecting) PyGC_Enable();
    Py_DECREF(runs);
    return NULL;
}

/* ---- the map-side table ------------------------------------------------------ */

static int not_configured(void) {
    PyErr_SetString(PyExc_RuntimeError, "simplemr.core._speedups is not configured");
    return -1;
}

/* Append a pair's value to its key's list in the table, making the list of a new
 * key. *spare is a list of one free slot, what a new key gets: the table is looked
 * up once, whether the key is new or not (PyDict_SetDefault), and a list is made
 * only for a new key, to be the next spare. */
static int add_pair(PyObject *table, PyObject *item, PyObject **spare) {
    PyObject *key, *value, *unpacked = NULL;
    if (PyTuple_CheckExact(item) && PyTuple_GET_SIZE(item) == 2) {
        key = PyTuple_GET_ITEM(item, 0);
        value = PyTuple_GET_ITEM(item, 1);
    } else {
        if (python_pair == NULL) return not_configured();
        unpacked = PyObject_CallOneArg(python_pair, item);  /* or says why it is no pair */
        if (unpacked == NULL) return -1;
        if (!PyTuple_CheckExact(unpacked) || PyTuple_GET_SIZE(unpacked) != 2) {
            Py_DECREF(unpacked);
            PyErr_SetString(PyExc_TypeError, "pair() must return a 2-tuple");
            return -1;
        }
        key = PyTuple_GET_ITEM(unpacked, 0);
        value = PyTuple_GET_ITEM(unpacked, 1);
    }
    int status = 0;
    Py_INCREF(value);
    PyList_SET_ITEM(*spare, 0, value);
    PyObject *values = PyDict_SetDefault(table, key, *spare); /* borrowed */
    if (values == *spare) { /* a new key: the table keeps the spare */
        Py_SETREF(*spare, PyList_New(1));
        if (*spare == NULL) status = -1;
    } else {
        PyList_SET_ITEM(*spare, 0, NULL);
        Py_DECREF(value);
        status = values == NULL ? -1 : PyList_Append(values, value);
    }
    Py_XDECREF(unpacked);
    return status;
}

/* map_records(mapper, records, table, limit, cursor) -> pairs added; see core/pure.py */
static PyObject *map_records(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (map_cursor_type == NULL) {
        not_configured();
        return NULL;
    }
    if (nargs != 5 || !PyDict_CheckExact(args[2]) ||
        !PyObject_TypeCheck(args[4], (PyTypeObject *)map_cursor_type)) {
        PyErr_SetString(PyExc_TypeError,
                        "map_records(mapper, records, table: dict, limit, cursor: MapCursor)");
        return NULL;
    }
    PyObject *mapper = args[0], *table = args[2], *cursor = args[4];
    Py_ssize_t limit;
    if (parse_count(args[3], "limit", &limit) < 0) return NULL;
    PyObject *count = PyObject_GetAttr(cursor, name_taken);
    if (count == NULL) return NULL;
    Py_ssize_t taken = PyLong_AsSsize_t(count);
    Py_DECREF(count);
    if (taken == -1 && PyErr_Occurred()) return NULL;
    PyObject *record = PyObject_GetAttr(cursor, name_record);
    if (record == NULL) return NULL;
    PyObject *pairs = PyObject_GetAttr(cursor, name_pairs);
    if (pairs == NULL) {
        Py_DECREF(record);
        return NULL;
    }
    PyObject *records = PyObject_GetIter(args[1]);
    if (records == NULL) {
        Py_DECREF(record);
        Py_DECREF(pairs);
        return NULL;
    }
    if (pairs == Py_None) {
        Py_CLEAR(pairs);
    } else {
        Py_SETREF(pairs, PyObject_GetIter(pairs));
        if (pairs == NULL) {
            Py_DECREF(record);
            Py_DECREF(records);
            return NULL;
        }
    }
    Py_ssize_t added = 0, called = 0;
    int failed = 0;
    PyObject *spare = PyList_New(1);
    if (spare == NULL) {
        Py_DECREF(record);
        Py_DECREF(records);
        Py_XDECREF(pairs);
        return NULL;
    }
    /* The table's new lists would set off a collection every few hundred keys,
     * each promoting them a generation: collect after this call instead. So that
     * the cycles a mapper makes cannot pile up, collecting resumes once `limit`
     * records have been mapped in this call even if they yield few pairs. */
    int collecting = PyGC_Disable();
    while (added < limit) {
        if (pairs == NULL) {
            PyObject *next = PyIter_Next(records);
            if (next == NULL) {
                failed = PyErr_Occurred() != NULL;
                break;
            }
            Py_SETREF(record, next);
            taken++;
            if (++called == limit && collecting) {
                PyGC_Enable();
                collecting = 0;
            }
            PyObject *output = PyObject_CallOneArg(mapper, record);
            if (output == NULL) {
                failed = 1;
                break;
            }
            pairs = PyObject_GetIter(output);
            if (pairs == NULL && PyErr_ExceptionMatches(PyExc_TypeError)) {
                /* not pairs (an int, None): pairs_of says so, naming what it got */
                PyErr_Clear();
                pairs = python_pairs_of == NULL ? (not_configured(), NULL)
                                                : PyObject_CallOneArg(python_pairs_of, output);
            }
            Py_DECREF(output);
            if (pairs == NULL) {
                failed = 1;
                break;
            }
        }
        PyObject *item = PyIter_Next(pairs);
        if (item == NULL) {
            if (PyErr_Occurred()) {
                failed = 1;
                break;
            }
            Py_CLEAR(pairs);
            continue;
        }
        int status = add_pair(table, item, &spare);
        Py_DECREF(item);
        if (status < 0) {
            failed = 1;
            break;
        }
        added++;
    }
    Py_XDECREF(spare); /* a list of one empty slot, or NULL where making one failed */
    /* Set the exception aside while the cursor is written: it says where the task
     * is, for an error message or the next call. */
    PyObject *exception = failed ? PyErr_GetRaisedException_compat() : NULL;
    if (collecting) PyGC_Enable();
    Py_DECREF(records);
    if (failed) Py_CLEAR(pairs);  /* a failed mapper's pairs are never resumed */
    if (pairs == NULL) {
        Py_INCREF(Py_None);
        pairs = Py_None;
    }
    PyObject *position = PyLong_FromSsize_t(taken);
    int stored = position != NULL && PyObject_SetAttr(cursor, name_taken, position) == 0 &&
                 PyObject_SetAttr(cursor, name_record, record) == 0 &&
                 PyObject_SetAttr(cursor, name_pairs, pairs) == 0;
    Py_XDECREF(position);
    Py_DECREF(record);
    Py_DECREF(pairs);
    if (!stored) {
        Py_XDECREF(exception);
        return NULL;
    }
    if (failed) {
        PyErr_SetRaisedException_compat(exception);
        return NULL;
    }
    return PyLong_FromSsize_t(added);
}

/* crowded(table, least) -> the keys holding at least `least` values; see core/pure.py */
static PyObject *crowded(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyDict_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "crowded(table: dict, least)");
        return NULL;
    }
    Py_ssize_t least = PyLong_AsSsize_t(args[1]);
    if (least == -1 && PyErr_Occurred()) return NULL;
    PyObject *keys = PyList_New(0);
    if (keys == NULL) return NULL;
    Py_ssize_t position = 0;
    PyObject *key, *values;
    while (PyDict_Next(args[0], &position, &key, &values)) {
        if (!PyList_CheckExact(values)) {
            Py_DECREF(keys);
            PyErr_SetString(PyExc_TypeError, "crowded needs a table of lists");
            return NULL;
        }
        if (PyList_GET_SIZE(values) >= least && PyList_Append(keys, key) < 0) {
            Py_DECREF(keys);
            return NULL;
        }
    }
    return keys;
}

/* ---- the reduce-side merge --------------------------------------------------- */

/* Whether a key holds a float NaN where partition.canonical_key looks for one:
 * 1 yes, 0 no, -1 an error. */
static int holds_nan_unguarded(PyObject *key);

static int holds_nan(PyObject *key) {
    if (Py_EnterRecursiveCall(" while looking for NaN in a key")) return -1;
    int found = holds_nan_unguarded(key);
    Py_LeaveRecursiveCall();
    return found;
}

static int holds_nan_unguarded(PyObject *key) {
    PyTypeObject *kind = Py_TYPE(key);
    if (kind == &PyFloat_Type) return isnan(PyFloat_AS_DOUBLE(key));
    if (kind == &PyTuple_Type) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(key); i++) {
            int found = holds_nan(PyTuple_GET_ITEM(key, i));
            if (found != 0) return found;
        }
        return 0;
    }
    if (kind == &PyFrozenSet_Type) {
        PyObject *members = PyObject_GetIter(key);
        if (members == NULL) return -1;
        PyObject *member;
        int found = 0;
        while (found == 0 && (member = PyIter_Next(members)) != NULL) {
            found = holds_nan(member);
            Py_DECREF(member);
        }
        Py_DECREF(members);
        if (found == 0 && PyErr_Occurred()) return -1;
        return found;
    }
    return 0;
}

/* partition.canonical_key(key), without calling it when the key holds no NaN. */
static PyObject *canonical(PyObject *key) {
    int found = holds_nan(key);
    if (found < 0) return NULL;
    if (found) {
        if (python_canonical_key == NULL) {
            not_configured();
            return NULL;
        }
        return PyObject_CallOneArg(python_canonical_key, key);
    }
    Py_INCREF(key);
    return key;
}

static PyObject *canonical_key(PyObject *module, PyObject *key) { return canonical(key); }

/* Add `values` to the table under `key`: the list itself for a new key, else its
 * items to the key's list. One lookup for either (PyDict_SetDefault); a new key
 * that holds a NaN is put under its canonical form, so every NaN is one key. */
static int merge_values(PyObject *table, PyObject *key, PyObject *values) {
    PyObject *current = PyDict_SetDefault(table, key, values); /* borrowed */
    if (current == NULL) return -1;
    if (current != values)
        return PyList_SetSlice(current, PY_SSIZE_T_MAX, PY_SSIZE_T_MAX, values);
    if (PyUnicode_CheckExact(key)) return 0;
    PyObject *same = canonical(key);
    if (same == NULL) return -1;
    int status = 0;
    if (same != key) { /* it held a NaN: move it under the canonical key */
        Py_INCREF(values); /* kept while its entry is deleted */
        status = PyDict_DelItem(table, key);
        if (status == 0) {
            current = PyDict_SetDefault(table, same, values);
            if (current == NULL)
                status = -1;
            else if (current != values)
                status = PyList_SetSlice(current, PY_SSIZE_T_MAX, PY_SSIZE_T_MAX, values);
        }
        Py_DECREF(values);
    }
    Py_DECREF(same);
    return status;
}

/* merge_items(table, items, limit, cursor) -> values added; see core/pure.py */
static PyObject *merge_items(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyDict_CheckExact(args[0]) || !PyList_CheckExact(args[3]) ||
        PyList_GET_SIZE(args[3]) != 2) {
        PyErr_SetString(PyExc_TypeError,
                        "merge_items(table: dict, items, limit, cursor: [key, values])");
        return NULL;
    }
    PyObject *table = args[0], *cursor = args[3];
    Py_ssize_t limit;
    if (parse_count(args[2], "limit", &limit) < 0) return NULL;
    PyObject *items = PyObject_GetIter(args[1]);
    if (items == NULL) return NULL;
    Py_ssize_t added = 0;
    PyObject *last = NULL;
    int collecting = PyGC_Disable();  /* as in map_records */
    while (added < limit) {
        PyObject *item = PyIter_Next(items);
        if (item == NULL) {
            if (PyErr_Occurred()) goto fail;
            break;
        }
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2 ||
            !PyList_CheckExact(PyTuple_GET_ITEM(item, 1))) {
            Py_DECREF(item);
            PyErr_SetString(PyExc_TypeError, "merge_items needs (key, list) items");
            goto fail;
        }
        PyObject *key = PyTuple_GET_ITEM(item, 0);
        PyObject *values = PyTuple_GET_ITEM(item, 1);
        added += PyList_GET_SIZE(values);
        Py_XSETREF(last, item);
        if (merge_values(table, key, values) < 0) goto fail;
    }
    if (collecting) PyGC_Enable();
    Py_DECREF(items);
    if (last != NULL) {
        int stored = PyList_SetSlice(cursor, 0, PY_SSIZE_T_MAX, last);  /* cursor[:] = last */
        Py_DECREF(last);
        if (stored < 0) return NULL;
    }
    return PyLong_FromSsize_t(added);
fail:
    if (collecting) PyGC_Enable();
    Py_DECREF(items);
    Py_XDECREF(last);
    return NULL;
}

/* ---- the reducer loop -------------------------------------------------------- */

/* reduce_groups(reduce, groups, spot, out) -> None, or the first result that is a
 * generator; see core/pure.py */
static PyObject *reduce_groups(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyList_CheckExact(args[2]) || PyList_GET_SIZE(args[2]) != 1 ||
        !PyList_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "reduce_groups(reduce, groups, spot: [groups], out: list)");
        return NULL;
    }
    PyObject *reduce = args[0], *groups = args[1], *spot = args[2], *out = args[3];
    PyObject *group;
    while ((group = PyIter_Next(groups)) != NULL) {
        if (!PyTuple_CheckExact(group) || PyTuple_GET_SIZE(group) != 2) {
            Py_DECREF(group);
            PyErr_SetString(PyExc_TypeError, "reduce_groups needs (key, values) groups");
            return NULL;
        }
        PyObject *values = PyTuple_GET_ITEM(group, 1);
        PyObject *followed = PyObject_GetIter(values);
        if (followed == NULL) {
            Py_DECREF(group);
            return NULL;
        }
        int many = !PyList_CheckExact(values) || PyList_GET_SIZE(values) != 1;
        if (many) {
            Py_INCREF(followed);
            PyList_SetItem(spot, 0, followed); /* cannot fail: a list of one */
        }
        PyObject *call[2] = {PyTuple_GET_ITEM(group, 0), followed};
        PyObject *result = PyObject_Vectorcall(reduce, call, 2, NULL);
        Py_DECREF(followed);
        Py_DECREF(group);
        if (result == NULL) return NULL;
        if (PyGen_CheckExact(result)) return result;
        if (many) {
            Py_INCREF(groups);
            PyList_SetItem(spot, 0, groups);
        }
        int appended = PyList_Append(out, result);
        Py_DECREF(result);
        if (appended < 0) return NULL;
    }
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

/* ---- line endings ------------------------------------------------------------ */

/* line_endings(data) -> how many line endings data holds: "\n", "\r\n" or a lone
 * "\r" (a "\r" at the very end counts), as pure.line_endings, in one pass. */
static PyObject *line_endings(PyObject *module, PyObject *data) {
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "line_endings needs bytes");
        return NULL;
    }
    const char *start = PyBytes_AS_STRING(data);
    const char *end = start + PyBytes_GET_SIZE(data);
    Py_ssize_t endings = 0;
    const char *p = start;
    while (p < end) {
        const char *newline = memchr(p, '\n', (size_t)(end - p));
        const char *carriage = memchr(p, '\r', (size_t)((newline ? newline : end) - p));
        if (carriage != NULL) {  /* a "\r" comes first: it ends a line, with its "\n" if next */
            endings++;
            p = carriage + 1;
            if (p < end && *p == '\n') p++;
            continue;
        }
        if (newline == NULL) break;
        endings++;
        p = newline + 1;
    }
    return PyLong_FromSsize_t(endings);
}

/* ---- UTF-8 ------------------------------------------------------------------ */

/* utf8_valid(data) -> whether data decodes as UTF-8 without error, as
 * pure.utf8_valid (Python's strict decoder: no overlong forms, no surrogates, nothing
 * past U+10FFFF), without making the text: ASCII is skipped eight bytes at a time. */
static int is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

static PyObject *utf8_valid(PyObject *module, PyObject *data) {
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "utf8_valid needs bytes");
        return NULL;
    }
    const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(data);
    Py_ssize_t n = PyBytes_GET_SIZE(data), i = 0;
    while (i < n) {
        uint64_t word;
        while (i + 8 <= n) {
            memcpy(&word, s + i, 8);
            if (word & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned char lead = s[i];
        if (lead < 0x80) {
            i++;
        } else if (lead < 0xC2) {  /* a continuation byte, or an overlong 2-byte form */
            Py_RETURN_FALSE;
        } else if (lead < 0xE0) {
            if (i + 1 >= n || !is_continuation(s[i + 1])) Py_RETURN_FALSE;
            i += 2;
        } else if (lead < 0xF0) {
            if (i + 2 >= n || !is_continuation(s[i + 1]) || !is_continuation(s[i + 2]))
                Py_RETURN_FALSE;
            if ((lead == 0xE0 && s[i + 1] < 0xA0) || (lead == 0xED && s[i + 1] > 0x9F))
                Py_RETURN_FALSE;  /* overlong, or a surrogate */
            i += 3;
        } else if (lead < 0xF5) {
            if (i + 3 >= n || !is_continuation(s[i + 1]) || !is_continuation(s[i + 2]) ||
                !is_continuation(s[i + 3]))
                Py_RETURN_FALSE;
            if ((lead == 0xF0 && s[i + 1] < 0x90) || (lead == 0xF4 && s[i + 1] > 0x8F))
                Py_RETURN_FALSE;  /* overlong, or past U+10FFFF */
            i += 4;
        } else {
            Py_RETURN_FALSE;
        }
    }
    Py_RETURN_TRUE;
}

/* ---- the compact batch encoding (core/codec.py is its reference) ------------- */

static const char PICKLE_HEAD[] = "\x80\x05\x8c\x0dsimplemr.core\x8c\x0c" "decode_batch\x93\x8e";
static const char PICKLE_TAIL[] = "\x85R.";
#define HEAD_SIZE ((Py_ssize_t)(sizeof PICKLE_HEAD - 1))
#define TAIL_SIZE ((Py_ssize_t)(sizeof PICKLE_TAIL - 1))

typedef struct {
    PyObject *bytes; /* grown as it fills, cut to size at the end */
    Py_ssize_t size;
} Writer;

/* Room for `more` bytes; 0 on success. */
static int writer_room(Writer *w, Py_ssize_t more) {
    Py_ssize_t capacity = PyBytes_GET_SIZE(w->bytes);
    if (w->size + more <= capacity) return 0;
    while (capacity < w->size + more) capacity *= 2;
    return _PyBytes_Resize(&w->bytes, capacity);
}

static inline unsigned char *writer_at(Writer *w) {
    return (unsigned char *)PyBytes_AS_STRING(w->bytes) + w->size;
}

static int put_tag_and_length(Writer *w, char tag, uint64_t length) {
    if (writer_room(w, 11) < 0) return -1;
    unsigned char *at = writer_at(w);
    unsigned char *start = at;
    *at++ = (unsigned char)tag;
    while (length >= 0x80) {
        *at++ = (unsigned char)((length & 0x7F) | 0x80);
        length >>= 7;
    }
    *at++ = (unsigned char)length;
    w->size += at - start;
    return 0;
}

static int put_raw(Writer *w, const void *data, Py_ssize_t size) {
    if (writer_room(w, size) < 0) return -1;
    memcpy(writer_at(w), data, (size_t)size);
    w->size += size;
    return 0;
}

static int put_word(Writer *w, char tag, uint64_t word) {
    if (writer_room(w, 9) < 0) return -1;
    unsigned char *at = writer_at(w);
    at[0] = (unsigned char)tag;
    for (int i = 0; i < 8; i++) at[1 + i] = (unsigned char)(word >> (8 * i));
    w->size += 9;
    return 0;
}

/* Encode value: 0 done, 1 a value the encoding has no tag for, -1 an error. */
static int encode_value(Writer *w, PyObject *value);

static int encode_items(Writer *w, char tag, PyObject *const *items, Py_ssize_t count) {
    if (put_tag_and_length(w, tag, (uint64_t)count) < 0) return -1;
    if (Py_EnterRecursiveCall(" while encoding a batch")) {
        PyErr_Clear(); /* too deep for the encoding: pickle decides */
        return 1;
    }
    int status = 0;
    for (Py_ssize_t i = 0; i < count && status == 0; i++) status = encode_value(w, items[i]);
    Py_LeaveRecursiveCall();
    return status;
}

static int encode_value(Writer *w, PyObject *value) {
    PyTypeObject *kind = Py_TYPE(value);
    if (kind == &PyUnicode_Type) {
        if (PyUnicode_IS_ASCII(value)) {
            Py_ssize_t length = PyUnicode_GET_LENGTH(value);
            if (put_tag_and_length(w, 'a', (uint64_t)length) < 0) return -1;
            return put_raw(w, PyUnicode_DATA(value), length);
        }
        Py_ssize_t length;
        const char *data = PyUnicode_AsUTF8AndSize(value, &length);
        if (data == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
            PyErr_Clear(); /* a lone surrogate */
            return 1;
        }
        if (put_tag_and_length(w, 'u', (uint64_t)length) < 0) return -1;
        return put_raw(w, data, length);
    }
    if (kind == &PyLong_Type) {
        int overflow = 0;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow) return 1;
        if (number == -1 && PyErr_Occurred()) return -1;
        uint64_t zigzag = ((uint64_t)number << 1) ^ (uint64_t)(number >> 63);
        return put_tag_and_length(w, 'i', zigzag);
    }
    /* Nothing here runs Python code (every type is exact), so no list can change
     * while its items are encoded. */
    if (kind == &PyTuple_Type)
        return encode_items(w, 't', ((PyTupleObject *)value)->ob_item, PyTuple_GET_SIZE(value));
    if (kind == &PyList_Type)
        return encode_items(w, 'l', ((PyListObject *)value)->ob_item, PyList_GET_SIZE(value));
    if (kind == &PyFloat_Type) {
        double number = PyFloat_AS_DOUBLE(value);
        uint64_t word;
        memcpy(&word, &number, sizeof word);
        return put_word(w, 'f', word);
    }
    if (kind == &PyBytes_Type) {
        Py_ssize_t length = PyBytes_GET_SIZE(value);
        if (put_tag_and_length(w, 'b', (uint64_t)length) < 0) return -1;
        return put_raw(w, PyBytes_AS_STRING(value), length);
    }
    if (value == Py_None) return put_raw(w, "N", 1);
    if (value == Py_True) return put_raw(w, "T", 1);
    if (value == Py_False) return put_raw(w, "F", 1);
    return 1;
}

/* Start a batch's pickle: its head, and room for the encoding's length; return
 * where the encoding starts (-1 on error). */
static Py_ssize_t frame_open(Writer *w) {
    if (put_raw(w, PICKLE_HEAD, HEAD_SIZE) < 0 || writer_room(w, 8) < 0) return -1;
    w->size += 8; /* the encoding's length, written once known */
    return w->size;
}

/* End the batch whose encoding started at start: its length, and the pickle's tail. */
static int frame_close(Writer *w, Py_ssize_t start) {
    uint64_t length = (uint64_t)(w->size - start);
    unsigned char *slot = (unsigned char *)PyBytes_AS_STRING(w->bytes) + start - 8;
    for (int i = 0; i < 8; i++) slot[i] = (unsigned char)(length >> (8 * i));
    return put_raw(w, PICKLE_TAIL, TAIL_SIZE);
}

/* The writer's bytes, cut to size (NULL on error); the writer gives them up. */
static PyObject *writer_done(Writer *w) {
    if (_PyBytes_Resize(&w->bytes, w->size) < 0) return NULL;
    return w->bytes;
}

/* encode_batch(batch) -> bytes or None; see core/codec.py */
static PyObject *encode_batch(PyObject *module, PyObject *batch) {
    if (!PyList_CheckExact(batch)) Py_RETURN_NONE;
    Writer w = {PyBytes_FromStringAndSize(NULL, 64 * 1024), 0};
    if (w.bytes == NULL) return NULL;
    Py_ssize_t start = frame_open(&w);
    if (start < 0) goto fail;
    int status = encode_value(&w, batch);
    if (status < 0) goto fail;
    if (status > 0) {
        Py_DECREF(w.bytes);
        Py_RETURN_NONE;
    }
    if (frame_close(&w, start) < 0) goto fail;
    return writer_done(&w);
fail:
    Py_XDECREF(w.bytes);
    return NULL;
}

/* One batch of a run: items[first:end], or (end == first) the piece of `count`
 * values of items[first]'s list from `from`. 0, 1 (not encodable) or -1. */
static int encode_run_batch(Writer *w, PyObject *items, Py_ssize_t first, Py_ssize_t end,
                            Py_ssize_t from, Py_ssize_t count) {
    Py_ssize_t start = frame_open(w);
    if (start < 0) return -1;
    int status;
    if (end > first) {
        status = encode_items(w, 'l', ((PyListObject *)items)->ob_item + first, end - first);
    } else {
        PyObject *item = PyList_GET_ITEM(items, first);
        PyObject *values = PyTuple_GET_ITEM(item, 1);
        if (put_tag_and_length(w, 'l', 1) < 0 || put_tag_and_length(w, 't', 2) < 0) return -1;
        status = encode_value(w, PyTuple_GET_ITEM(item, 0));
        if (status == 0)
            status = encode_items(w, 'l', ((PyListObject *)values)->ob_item + from, count);
    }
    if (status != 0) return status;
    return frame_close(w, start) < 0 ? -1 : 0;
}

/* The longest list for which a run is cut into batches by item count (codec.SHORT). */
#define SHORT_LIST 16

/* encode_run(items, batch_values) -> bytes or None; see core/codec.py */
static PyObject *encode_run(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "encode_run(items, batch_values)");
        return NULL;
    }
    PyObject *items = args[0];
    Py_ssize_t most = PyLong_AsSsize_t(args[1]);
    if (most == -1 && PyErr_Occurred()) return NULL;
    if (most < 1) {
        PyErr_SetString(PyExc_ValueError, "batch_values must be at least 1");
        return NULL;
    }
    if (!PyList_CheckExact(items)) Py_RETURN_NONE;
    Py_ssize_t count = PyList_GET_SIZE(items), longest = 0;
    for (Py_ssize_t i = 0; i < count; i++) { /* (key, list) items only */
        PyObject *item = PyList_GET_ITEM(items, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2 ||
            !PyList_CheckExact(PyTuple_GET_ITEM(item, 1)))
            Py_RETURN_NONE;
        Py_ssize_t length = PyList_GET_SIZE(PyTuple_GET_ITEM(item, 1));
        if (length > longest) longest = length;
    }
    Writer w = {PyBytes_FromStringAndSize(NULL, 64 * 1024), 0};
    if (w.bytes == NULL) return NULL;
    int status = 0;
    Py_ssize_t i = 0;
    if (longest <= SHORT_LIST) { /* every list short: batches of as many items */
        Py_ssize_t step = most / (longest + 1) > 1 ? most / (longest + 1) : 1;
        for (; i < count && status == 0; i += step)
            status = encode_run_batch(&w, items, i, i + step < count ? i + step : count, 0, 0);
    }
    while (i < count && status == 0) {
        Py_ssize_t length = PyList_GET_SIZE(PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1));
        if (length > most) { /* a long list: batches of its own, `most` values each */
            for (Py_ssize_t from = 0; from < length && status == 0; from += most) {
                Py_ssize_t piece = length - from < most ? length - from : most;
                status = encode_run_batch(&w, items, i, i, from, piece);
            }
            i++;
            continue;
        }
        Py_ssize_t end = i, size = 0;
        while (end < count) {
            length = PyList_GET_SIZE(PyTuple_GET_ITEM(PyList_GET_ITEM(items, end), 1));
            if (length > most) break;
            size += length + 1;
            end++;
            if (size >= most) break;
        }
        status = encode_run_batch(&w, items, i, end, 0, 0);
        i = end;
    }
    if (status != 0) {
        Py_XDECREF(w.bytes); /* NULL where growing it failed */
        if (status < 0) return NULL;
        Py_RETURN_NONE;
    }
    return writer_done(&w);
}

typedef struct {
    const unsigned char *at, *end;
} Reader;

static PyObject *damaged(const char *why) {
    PyErr_Format(PyExc_ValueError, "a compact batch is damaged: %s", why);
    return NULL;
}

/* A LEB128 number into *number: 0, or -1 with an exception set. */
static int read_varint(Reader *r, uint64_t *number) {
    if (r->at < r->end && *r->at < 0x80) { /* most lengths and small numbers: one byte */
        *number = *r->at++;
        return 0;
    }
    *number = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
        if (r->at >= r->end) {
            damaged("cut short");
            return -1;
        }
        unsigned char byte = *r->at++;
        *number |= (uint64_t)(byte & 0x7F) << shift;
        if (byte < 0x80) return 0;
    }
    damaged("a number is too long");
    return -1;
}

/* A length into *length: 0, or -1 with an exception set if it passes the end. */
static int read_length(Reader *r, Py_ssize_t *length) {
    uint64_t number;
    if (read_varint(r, &number) < 0) return -1;
    if (number > (uint64_t)(r->end - r->at)) { /* longer than what is left */
        damaged("cut short");
        return -1;
    }
    *length = (Py_ssize_t)number;
    return 0;
}

static uint64_t read_word(Reader *r) {
    uint64_t word = 0;
    for (int i = 0; i < 8; i++) word |= (uint64_t)r->at[i] << (8 * i);
    r->at += 8;
    return word;
}

static PyObject *decode_value(Reader *r);

/* A str of ASCII bytes, copied as they are, eight at a time, and checked as they
 * are copied (a damaged byte must not make a string that claims to be ASCII and is
 * not). */
static PyObject *ascii_text(const char *data, Py_ssize_t length) {
    PyObject *text = PyUnicode_New(length, 127);
    if (text == NULL) return NULL;
    unsigned char *out = PyUnicode_1BYTE_DATA(text);
    uint64_t seen = 0, word;
    Py_ssize_t i = 0;
    for (; i + 8 <= length; i += 8) {
        memcpy(&word, data + i, 8);
        memcpy(out + i, &word, 8);
        seen |= word;
    }
    for (; i < length; i++) seen |= (out[i] = (unsigned char)data[i]);
    if (seen & 0x8080808080808080ULL) {
        Py_DECREF(text);
        return damaged("a string is not ASCII");
    }
    return text;
}

/* The commonest values, a short ASCII string or a small int (a one-byte length or
 * number), decoded without a call of decode_value; NULL with no exception set for
 * any other, left for decode_value. */
static inline PyObject *decode_short(Reader *r) {
    if (r->end - r->at < 2 || r->at[1] >= 0x80) return NULL;
    unsigned char tag = r->at[0], byte = r->at[1];
    if (tag == 'a' && byte <= r->end - r->at - 2) {
        r->at += 2 + byte;
        return ascii_text((const char *)r->at - byte, byte);
    }
    if (tag == 'i') {
        r->at += 2;
        return PyLong_FromLong((long)(byte >> 1) ^ (0L - (byte & 1)));
    }
    return NULL;
}

static PyObject *decode_items(Reader *r, int tuple) {
    Py_ssize_t count;
    if (read_length(r, &count) < 0) return NULL;
    if (count > r->end - r->at) return damaged("cut short"); /* a byte an item at least */
    PyObject *items = tuple ? PyTuple_New(count) : PyList_New(count);
    if (items == NULL) return NULL;
    if (Py_EnterRecursiveCall(" while decoding a batch")) {
        Py_DECREF(items);
        return NULL;
    }
    int atomic = 1;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = decode_short(r);
        if (item == NULL && !PyErr_Occurred()) item = decode_value(r);
        if (item == NULL) {
            Py_LeaveRecursiveCall();
            Py_DECREF(items); /* its unset slots are NULL: freed as such */
            return NULL;
        }
        if (tuple) {
            PyTuple_SET_ITEM(items, i, item);
            if (PyObject_IS_GC(item) && PyObject_GC_IsTracked(item)) atomic = 0;
        } else {
            PyList_SET_ITEM(items, i, item);
        }
    }
    Py_LeaveRecursiveCall();
    /* A tuple of strings and numbers can hold no cycle: the collector would untrack
     * it at its first pass, after walking it once; spare it that walk. */
    if (tuple && atomic) PyObject_GC_UnTrack(items);
    return items;
}

static PyObject *decode_value(Reader *r) {
    if (r->at >= r->end) return damaged("cut short");
    unsigned char tag = *r->at++;
    Py_ssize_t length;
    switch (tag) {
    case 'a':
    case 'u':
    case 'b': {
        if (read_length(r, &length) < 0) return NULL;
        if (length > r->end - r->at) return damaged("cut short");
        const char *data = (const char *)r->at;
        r->at += length;
        if (tag == 'b') return PyBytes_FromStringAndSize(data, length);
        if (tag == 'a') return ascii_text(data, length);
        PyObject *text = PyUnicode_DecodeUTF8(data, length, NULL);
        if (text == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear();
            return damaged("a string is not UTF-8");
        }
        return text;
    }
    case 'i': {
        uint64_t zigzag;
        if (read_varint(r, &zigzag) < 0) return NULL;
        return PyLong_FromLongLong((long long)((zigzag >> 1) ^ (0 - (zigzag & 1))));
    }
    case 'f': {
        if (r->end - r->at < 8) return damaged("cut short");
        uint64_t word = read_word(r);
        double number;
        memcpy(&number, &word, sizeof number);
        return PyFloat_FromDouble(number);
    }
    case 't':
    case 'l':
        return decode_items(r, tag == 't');
    case 'N':
        Py_RETURN_NONE;
    case 'T':
        Py_RETURN_TRUE;
    case 'F':
        Py_RETURN_FALSE;
    default: {
        char why[32];
        snprintf(why, sizeof why, "unknown tag 0x%02x", tag);
        return damaged(why);
    }
    }
}

/* decode_batch(data) -> list; see core/codec.py */
static PyObject *decode_batch(PyObject *module, PyObject *data) {
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return NULL;
    Reader r = {(const unsigned char *)view.buf, (const unsigned char *)view.buf + view.len};
    PyObject *batch = decode_value(&r);
    int whole = batch != NULL && r.at == r.end && PyList_CheckExact(batch);
    PyBuffer_Release(&view);
    if (batch != NULL && !whole) {
        Py_DECREF(batch);
        return damaged("it is not one whole list");
    }
    return batch;
}

/* ---- the module -------------------------------------------------------------- */

static PyObject *configure(PyObject *module, PyObject *args) {
    PyObject *encode, *pair, *pairs_of, *canonical, *cursor_type;
    if (!PyArg_ParseTuple(args, "OOOOO!:configure", &encode, &pair, &pairs_of, &canonical,
                          &PyType_Type, &cursor_type))
        return NULL;
    Py_INCREF(cursor_type);
    Py_XSETREF(map_cursor_type, cursor_type);
    Py_INCREF(encode);
    Py_XSETREF(python_key_bytes, encode);
    Py_INCREF(pair);
    Py_XSETREF(python_pair, pair);
    Py_INCREF(pairs_of);
    Py_XSETREF(python_pairs_of, pairs_of);
    Py_INCREF(canonical);
    Py_XSETREF(python_canonical_key, canonical);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(key_bytes, pair, pairs_of, canonical_key, MapCursor): the Python functions "
     "this module defers to, and the cursor type of map_records."},
    {"canonical_key", canonical_key, METH_O, "As partition.canonical_key."},
    {"line_endings", line_endings, METH_O, "line_endings(data) -> int, as simplemr.core.pure.line_endings."},
    {"utf8_valid", utf8_valid, METH_O, "utf8_valid(data) -> bool, as simplemr.core.pure.utf8_valid."},
    {"key_bytes", key_bytes, METH_O, "The canonical bytes of a key (as partition.key_bytes)."},
    {"stable_hash", (PyCFunction)(void (*)(void))stable_hash, METH_FASTCALL,
     "stable_hash(key, salt=b'') -> int, as partition.stable_hash."},
    {"partition_of", (PyCFunction)(void (*)(void))partition_of, METH_FASTCALL,
     "partition_of(key, partitions, salt=b'') -> int, as partition.partition_of."},
    {"spread", (PyCFunction)(void (*)(void))spread, METH_FASTCALL,
     "spread(table, slots, salt=b'') -> list of lists, as simplemr.core.pure.spread."},
    {"map_records", (PyCFunction)(void (*)(void))map_records, METH_FASTCALL,
     "map_records(mapper, records, table, limit, cursor) -> int, as simplemr.core.pure.map_records."},
    {"merge_items", (PyCFunction)(void (*)(void))merge_items, METH_FASTCALL,
     "merge_items(table, items, limit, cursor) -> int, as simplemr.core.pure.merge_items."},
    {"reduce_groups", (PyCFunction)(void (*)(void))reduce_groups, METH_FASTCALL,
     "reduce_groups(reduce, groups, spot, out) -> None or a generator, as "
     "simplemr.core.pure.reduce_groups."},
    {"crowded", (PyCFunction)(void (*)(void))crowded, METH_FASTCALL,
     "crowded(table, least) -> list of keys, as simplemr.core.pure.crowded."},
    {"encode_run", (PyCFunction)(void (*)(void))encode_run, METH_FASTCALL,
     "encode_run(items, batch_values) -> bytes or None, as simplemr.core.codec.encode_run."},
    {"encode_batch", encode_batch, METH_O,
     "encode_batch(batch) -> bytes or None, as simplemr.core.codec.encode_batch."},
    {"decode_batch", decode_batch, METH_O,
     "decode_batch(data) -> list, as simplemr.core.codec.decode_batch."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "simplemr.core._speedups",
    "The compiled twin of simplemr.core.pure (see simplemr.core).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void) {
    crc32_init();
    name_taken = PyUnicode_InternFromString("taken");
    name_record = PyUnicode_InternFromString("record");
    name_pairs = PyUnicode_InternFromString("pairs");
    if (name_taken == NULL || name_record == NULL || name_pairs == NULL) return NULL;
    return PyModule_Create(&speedups_module);
}
