/*
 * A libpcap handle that hands packets to JavaScript in batches: dispatch(buffer)
 * copies everything waiting (as much as fits) into one Buffer, so JS pays one
 * call per poll instead of one callback per packet. Record layout, little-endian:
 *
 *   u32 tsSec | u32 tsNsec | u32 caplen | u32 origLen | caplen bytes | 0-3 zero bytes to a 4-byte boundary
 *
 * No threads: the handle is non-blocking and JS polls it on a timer.
 */
#include "capture.h"

#include <limits.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

#define RECORD_HEADER_BYTES 16
#define DEFAULT_SNAPLEN 262144

typedef struct {
  pcap_t *pcap; /* NULL once closed */
  bool nanosecond;
} capture;

/* Where one dispatch() call is writing: the caller's Buffer. */
typedef struct {
  uint8_t *data;
  size_t size;
  size_t used;
  bool nanosecond;
} batch;

static size_t padded(size_t n) {
  return (n + 3) & ~(size_t)3;
}

static void put_u32le(uint8_t *at, uint32_t value) {
  at[0] = (uint8_t)value;
  at[1] = (uint8_t)(value >> 8);
  at[2] = (uint8_t)(value >> 16);
  at[3] = (uint8_t)(value >> 24);
}

static void append_record(u_char *user, const struct pcap_pkthdr *header, const u_char *bytes) {
  batch *out = (batch *)user;
  size_t length = RECORD_HEADER_BYTES + padded(header->caplen);
  /* Cannot happen (dispatch asks for no more packets than fit at snaplen, and libpcap
     clips caplen to snaplen), but a libpcap bug must not write past the Buffer. */
  if (length > out->size - out->used) return;
  uint8_t *record = out->data + out->used;
  uint32_t fraction = (uint32_t)header->ts.tv_usec; /* nanoseconds when the handle is in nano precision */
  put_u32le(record, (uint32_t)header->ts.tv_sec);
  put_u32le(record + 4, out->nanosecond ? fraction : fraction * 1000);
  put_u32le(record + 8, header->caplen);
  put_u32le(record + 12, header->len);
  memcpy(record + RECORD_HEADER_BYTES, bytes, header->caplen);
  memset(record + RECORD_HEADER_BYTES + header->caplen, 0, length - RECORD_HEADER_BYTES - header->caplen);
  out->used += length;
}

static void close_pcap(capture *handle) {
  if (handle->pcap != NULL) {
    pcap_close(handle->pcap);
    handle->pcap = NULL;
  }
}

static void finalize_capture(napi_env env, void *data, void *hint) {
  close_pcap((capture *)data);
  free(data);
}

/* The open capture behind `this`, or NULL with a JS exception pending. */
static capture *open_capture_of_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) {
    throw_napi_failure(env);
    return NULL;
  }
  capture *handle = NULL;
  if (napi_unwrap(env, self, (void **)&handle) != napi_ok || handle == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "not a capture handle (call it as handle.method())");
    return NULL;
  }
  if (handle->pcap == NULL) {
    throw_coded_error(env, "ECLOSED", "capture handle is closed");
    return NULL;
  }
  return handle;
}

static napi_value capture_dispatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  capture *handle = open_capture_of_this(env, info, &argc, argv);
  if (handle == NULL) return NULL;
  bool is_buffer = false;
  if (argv[0] != NULL) napi_is_buffer(env, argv[0], &is_buffer);
  if (!is_buffer) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "dispatch(buffer): buffer must be a Buffer");
    return NULL;
  }
  batch out = {NULL, 0, 0, handle->nanosecond};
  NAPI_CALL(env, napi_get_buffer_info(env, argv[0], (void **)&out.data, &out.size));

  size_t largest_record = RECORD_HEADER_BYTES + padded((size_t)pcap_snapshot(handle->pcap));
  if (out.size < largest_record) {
    napi_throw_range_error(env, NULL, "dispatch(buffer): buffer is smaller than one record at this snaplen");
    return NULL;
  }
  /* Ask libpcap for no more packets than surely fit: the rest stay in the kernel ring
     for the next call (a packet handed to the callback is gone from the ring). */
  for (;;) {
    size_t room = (out.size - out.used) / largest_record;
    if (room == 0) break;
    int wanted = room > INT_MAX ? INT_MAX : (int)room;
    int delivered = pcap_dispatch(handle->pcap, wanted, append_record, (u_char *)&out);
    if (delivered < 0) return throw_coded_error(env, "EPCAP", "%s", pcap_geterr(handle->pcap));
    if (delivered < wanted) break; /* the ring is empty */
  }
  napi_value written;
  NAPI_CALL(env, napi_create_double(env, (double)out.used, &written));
  return written;
}

static napi_status set_number(napi_env env, napi_value object, const char *name, double value) {
  napi_value number;
  napi_status status = napi_create_double(env, value, &number);
  return status == napi_ok ? napi_set_named_property(env, object, name, number) : status;
}

static napi_value capture_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  capture *handle = open_capture_of_this(env, info, &argc, NULL);
  if (handle == NULL) return NULL;
  struct pcap_stat counts;
  if (pcap_stats(handle->pcap, &counts) != 0) return throw_coded_error(env, "EPCAP", "%s", pcap_geterr(handle->pcap));
  napi_value stats;
  NAPI_CALL(env, napi_create_object(env, &stats));
  NAPI_CALL(env, set_number(env, stats, "received", counts.ps_recv));
  NAPI_CALL(env, set_number(env, stats, "dropped", counts.ps_drop));
  NAPI_CALL(env, set_number(env, stats, "ifDropped", counts.ps_ifdrop));
  return stats;
}

static napi_value capture_close(napi_env env, napi_callback_info info) {
  napi_value self;
  NAPI_CALL(env, napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  capture *handle = NULL;
  if (napi_unwrap(env, self, (void **)&handle) == napi_ok && handle != NULL) close_pcap(handle);
  return NULL;
}

/* --- options --- */

/* The option's value, or NULL when absent or undefined; *ok = false with a JS exception pending on error. */
static napi_value option(napi_env env, napi_value options, const char *name, napi_valuetype expected, bool *ok) {
  napi_value value = NULL;
  napi_valuetype type = napi_undefined;
  if (napi_get_named_property(env, options, name, &value) != napi_ok || napi_typeof(env, value, &type) != napi_ok) {
    *ok = false;
    throw_napi_failure(env);
    return NULL;
  }
  if (type == napi_undefined) return NULL;
  if (type != expected) {
    *ok = false;
    char message[128];
    snprintf(message, sizeof message, "openCapture: option %s has the wrong type", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return NULL;
  }
  return value;
}

/* A malloc'd copy of a string option, or NULL when absent. */
static char *string_option(napi_env env, napi_value options, const char *name, bool *ok) {
  napi_value value = option(env, options, name, napi_string, ok);
  if (value == NULL) return NULL;
  size_t length = 0;
  napi_get_value_string_utf8(env, value, NULL, 0, &length);
  char *text = malloc(length + 1);
  if (text == NULL) {
    *ok = false;
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

static int int_option(napi_env env, napi_value options, const char *name, int fallback, bool *ok) {
  napi_value value = option(env, options, name, napi_number, ok);
  int32_t number = fallback;
  if (value != NULL) napi_get_value_int32(env, value, &number);
  return number;
}

static bool bool_option(napi_env env, napi_value options, const char *name, bool fallback, bool *ok) {
  napi_value value = option(env, options, name, napi_boolean, ok);
  bool flag = fallback;
  if (value != NULL) napi_get_value_bool(env, value, &flag);
  return flag;
}

/* --- opening --- */

static const char *activate_error_code(int status) {
  switch (status) {
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      return "EPERM";
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return "ENODEV";
    case PCAP_ERROR_IFACE_NOT_UP:
      return "ENETDOWN";
    default:
      return "EPCAP";
  }
}

/* Throws and returns false when activation failed; warnings (status > 0) are not failures. */
static bool activate(napi_env env, pcap_t *pcap, const char *device) {
  int status = pcap_activate(pcap);
  if (status >= 0) return true;
  /* pcap_geterr has details for these statuses (it may be empty); the others only have a status text. */
  const char *details = pcap_geterr(pcap);
  bool has_details = status == PCAP_ERROR || status == PCAP_ERROR_NO_SUCH_DEVICE ||
                     status == PCAP_ERROR_PERM_DENIED || status == PCAP_ERROR_PROMISC_PERM_DENIED;
  const char *message = has_details && details[0] != '\0' ? details : pcap_statustostr(status);
  throw_coded_error(env, activate_error_code(status), "%s: %s", device, message);
  return false;
}

static bool apply_filter(napi_env env, pcap_t *pcap, const char *filter) {
  struct bpf_program program;
  if (pcap_compile(pcap, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    throw_coded_error(env, "EFILTER", "bad capture filter \"%s\": %s", filter, pcap_geterr(pcap));
    return false;
  }
  int status = pcap_setfilter(pcap, &program);
  pcap_freecode(&program);
  if (status != 0) {
    throw_coded_error(env, "EPCAP", "%s", pcap_geterr(pcap));
    return false;
  }
  return true;
}

/* A configured, activated, filtered pcap handle, or NULL with a JS exception pending. */
static pcap_t *start_pcap(napi_env env, const char *device, const char *filter, int snaplen, int buffer_bytes, bool promiscuous) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *pcap = pcap_create(device, errbuf);
  if (pcap == NULL) {
    throw_coded_error(env, "EPCAP", "%s", errbuf);
    return NULL;
  }
  pcap_set_snaplen(pcap, snaplen);
  pcap_set_promisc(pcap, promiscuous ? 1 : 0);
  /* Without immediate mode, Linux TPACKET_V3 hands over packets only when a ring block fills or times out. */
  pcap_set_immediate_mode(pcap, 1);
  if (buffer_bytes > 0) pcap_set_buffer_size(pcap, buffer_bytes);
  pcap_set_tstamp_precision(pcap, PCAP_TSTAMP_PRECISION_NANO); /* may fail: `nanosecond` reports what we got */

  bool ok = activate(env, pcap, device);
#ifdef DLT_LINUX_SLL2
  /* On "any", cooked v2 keeps the ifindex each packet crossed (v1, libpcap's default there, does not). */
  if (ok && strcmp(device, "any") == 0) pcap_set_datalink(pcap, DLT_LINUX_SLL2);
#endif
  if (ok && pcap_setnonblock(pcap, 1, errbuf) != 0) {
    throw_coded_error(env, "EPCAP", "%s", errbuf);
    ok = false;
  }
  if (ok && filter != NULL) ok = apply_filter(env, pcap, filter);
  if (!ok) {
    pcap_close(pcap);
    return NULL;
  }
  return pcap;
}

static napi_value wrap_handle(napi_env env, pcap_t *pcap) {
  capture *handle = malloc(sizeof *handle);
  if (handle == NULL) {
    pcap_close(pcap);
    return throw_coded_error(env, "ENOMEM", "out of memory");
  }
  handle->pcap = pcap;
  handle->nanosecond = pcap_get_tstamp_precision(pcap) == PCAP_TSTAMP_PRECISION_NANO;

  napi_value object;
  if (napi_create_object(env, &object) != napi_ok ||
      napi_wrap(env, object, handle, finalize_capture, NULL, NULL) != napi_ok) {
    finalize_capture(env, handle, NULL);
    return throw_napi_failure(env);
  }
  napi_value link_type, nanosecond, snaplen;
  NAPI_CALL(env, napi_create_int32(env, pcap_datalink(pcap), &link_type));
  NAPI_CALL(env, napi_get_boolean(env, handle->nanosecond, &nanosecond));
  NAPI_CALL(env, napi_create_int32(env, pcap_snapshot(pcap), &snaplen));
  napi_property_descriptor properties[] = {
      {"linkType", NULL, NULL, NULL, NULL, link_type, napi_enumerable, NULL},
      {"nanosecond", NULL, NULL, NULL, NULL, nanosecond, napi_enumerable, NULL},
      {"snaplen", NULL, NULL, NULL, NULL, snaplen, napi_enumerable, NULL},
      {"dispatch", NULL, capture_dispatch, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, capture_stats, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, capture_close, NULL, NULL, NULL, napi_default, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, object, sizeof properties / sizeof properties[0], properties));
  return object;
}

napi_value open_capture(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype type = napi_undefined;
  if (argv[0] != NULL) napi_typeof(env, argv[0], &type);
  if (type != napi_object) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "openCapture(options): options must be an object");
    return NULL;
  }

  bool ok = true;
  char *device = string_option(env, argv[0], "device", &ok);
  char *filter = ok ? string_option(env, argv[0], "filter", &ok) : NULL;
  int snaplen = ok ? int_option(env, argv[0], "snaplen", DEFAULT_SNAPLEN, &ok) : 0;
  int buffer_bytes = ok ? int_option(env, argv[0], "bufferBytes", 0, &ok) : 0;
  bool promiscuous = ok ? bool_option(env, argv[0], "promiscuous", false, &ok) : false;
  if (ok && device == NULL) {
    ok = false;
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "openCapture: option device is required");
  }
  pcap_t *pcap = ok ? start_pcap(env, device, filter, snaplen, buffer_bytes, promiscuous) : NULL;
  free(device);
  free(filter);
  return pcap == NULL ? NULL : wrap_handle(env, pcap);
}
