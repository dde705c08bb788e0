/*
 * tcpdump's filter language on packets read from a file. libpcap compiles the expression
 * for one link type against a savefile handle, as tcpdump -r does: the handle reads a
 * pcap file header held in memory (fmemopen), so the code generator knows it filters a
 * file (for BSD loopback it then accepts every BSD's AF_INET6, not only this host's) and
 * maps the file's LINKTYPE_ value to its DLT_ itself. pcap_offline_filter then runs the
 * BPF program on one record at a time. The header is in this host's byte order: a BSD
 * loopback capture written on a host of the other byte order would need it swapped.
 */
#include "filter.h"

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

typedef struct {
  struct bpf_program program;
} filter;

static void finalize_filter(napi_env env, void *data, void *hint) {
  filter *f = (filter *)data;
  pcap_freecode(&f->program);
  free(f);
}

/* matches(buffer, offset, caplen, origLen) -> boolean */
static napi_value filter_matches(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_value self;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  filter *f;
  NAPI_CALL(env, napi_unwrap(env, self, (void **)&f));
  void *data;
  size_t length;
  NAPI_CALL(env, napi_get_buffer_info(env, argv[0], &data, &length));
  uint32_t offset, caplen, orig_len;
  NAPI_CALL(env, napi_get_value_uint32(env, argv[1], &offset));
  NAPI_CALL(env, napi_get_value_uint32(env, argv[2], &caplen));
  NAPI_CALL(env, napi_get_value_uint32(env, argv[3], &orig_len));
  if ((size_t)offset > length || (size_t)caplen > length - offset) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "matches: offset + caplen is past the end of the buffer");
    return NULL;
  }
  struct pcap_pkthdr header;
  memset(&header, 0, sizeof header);
  header.caplen = caplen;
  header.len = orig_len;
  int kept = pcap_offline_filter(&f->program, &header, (const u_char *)data + offset);
  napi_value result;
  NAPI_CALL(env, napi_get_boolean(env, kept != 0, &result));
  return result;
}

napi_value compile_filter(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t link_type, snaplen;
  NAPI_CALL(env, napi_get_value_int32(env, argv[0], &link_type));
  NAPI_CALL(env, napi_get_value_int32(env, argv[1], &snaplen));
  size_t expression_length;
  NAPI_CALL(env, napi_get_value_string_utf8(env, argv[2], NULL, 0, &expression_length));
  char *expression = malloc(expression_length + 1);
  if (expression == NULL) return throw_coded_error(env, "ENOMEM", "out of memory");
  if (napi_get_value_string_utf8(env, argv[2], expression, expression_length + 1, &expression_length) != napi_ok) {
    free(expression);
    return throw_napi_failure(env);
  }
  struct {
    uint32_t magic;
    uint16_t version_major, version_minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, link_type;
  } header = {0xa1b2c3d4, 2, 4, 0, 0, (uint32_t)snaplen, (uint32_t)link_type};
  char errbuf[PCAP_ERRBUF_SIZE];
  FILE *file = fmemopen(&header, sizeof header, "rb");
  pcap_t *dead = file == NULL ? NULL : pcap_fopen_offline(file, errbuf);
  if (dead == NULL) {
    if (file != NULL) fclose(file);
    free(expression);
    return throw_coded_error(env, "EPCAP", "libpcap cannot filter link type %d: %s", link_type, file == NULL ? "fmemopen failed" : errbuf);
  }
  filter *f = calloc(1, sizeof *f);
  if (f == NULL) {
    pcap_close(dead);
    free(expression);
    return throw_coded_error(env, "ENOMEM", "out of memory");
  }
  if (pcap_compile(dead, &f->program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0) {
    char message[PCAP_ERRBUF_SIZE + 64];
    snprintf(message, sizeof message, "%s", pcap_geterr(dead));
    pcap_close(dead);
    free(expression);
    free(f);
    return throw_coded_error(env, "EFILTER", "%s", message);
  }
  pcap_close(dead);
  free(expression);
  napi_value object;
  if (napi_create_object(env, &object) != napi_ok || napi_wrap(env, object, f, finalize_filter, NULL, NULL) != napi_ok) {
    finalize_filter(env, f, NULL);
    return throw_napi_failure(env);
  }
  napi_property_descriptor properties[] = {
      {"matches", NULL, filter_matches, NULL, NULL, NULL, napi_default, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, object, 1, properties));
  return object;
}
