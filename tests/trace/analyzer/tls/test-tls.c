/* test-tls.c: the TLS decoder: RFC 8448, OpenSSL-made traces, truncation, chunking, key log.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ts-tls-cipher.h"
#include "ts-tls-keylog.h"
#include "ts-tls-session.h"

/* ---- a trace: segments of both directions in capture order ---- */

typedef struct
{
  TsTlsDirection dir;
  GBytes *bytes;
} Segment;

typedef struct
{
  GArray *segments;   /* Segment */
  GString *keylog;    /* NSS key log text */
  gint64 time_us;     /* capture time */
  GByteArray *app[2]; /* the application bytes each side sent */
} Trace;

static Trace *
trace_new (void)
{
  Trace *t = g_new0 (Trace, 1);

  t->segments = g_array_new (FALSE, TRUE, sizeof (Segment));
  t->keylog = g_string_new (NULL);
  t->app[0] = g_byte_array_new ();
  t->app[1] = g_byte_array_new ();
  /* 2026-06-01T00:00:00Z */
  t->time_us = G_GINT64_CONSTANT (1780272000) * G_USEC_PER_SEC;
  return t;
}

static void
trace_free (Trace *t)
{
  for (guint i = 0; i < t->segments->len; i++)
    g_bytes_unref (g_array_index (t->segments, Segment, i).bytes);
  g_array_unref (t->segments);
  g_string_free (t->keylog, TRUE);
  g_byte_array_unref (t->app[0]);
  g_byte_array_unref (t->app[1]);
  g_free (t);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Trace, trace_free)

static void
trace_add (Trace *t, TsTlsDirection dir, const guint8 *data, gsize len)
{
  Segment s = { dir, g_bytes_new (data, len) };

  if (len > 0)
    g_array_append_val (t->segments, s);
  else
    g_bytes_unref (s.bytes);
}

static gsize
trace_total (Trace *t)
{
  gsize n = 0;

  for (guint i = 0; i < t->segments->len; i++)
    n += g_bytes_get_size (g_array_index (t->segments, Segment, i).bytes);
  return n;
}

static guint8 *
unhex (const char *hex, gsize *out_len)
{
  GByteArray *a = g_byte_array_new ();
  int hi = -1;

  for (const char *p = hex; *p; p++)
    {
      int v = g_ascii_xdigit_value (*p);

      if (v < 0)
        continue;
      if (hi < 0)
        hi = v;
      else
        {
          guint8 b = (guint8)(hi << 4 | v);

          g_byte_array_append (a, &b, 1);
          hi = -1;
        }
    }
  g_assert_cmpint (hi, ==, -1);
  *out_len = a->len;
  return g_byte_array_free (a, FALSE);
}

static void
trace_add_hex (Trace *t, TsTlsDirection dir, const char *hex)
{
  gsize len;
  g_autofree guint8 *b = unhex (hex, &len);

  trace_add (t, dir, b, len);
}

/* ---- what the session reported, one line per event ---- */

typedef struct
{
  GString *log[2];
  GByteArray *app[2];
  guint n_anomalies;
  guint n_anomaly_kind[16];
  guint n_decrypted_records;
  guint n_opaque;
  GString *handshakes; /* "dir:type:decrypted " for each handshake message */
  char *sni;
  char *alpn;
  char *cert_subject;
  char *cert_sans;
  int cert_validity;
  guint n_key_updates;
  guint n_alerts;
  gboolean hrr;
  char *early_app; /* application data that came as 0-RTT */
} Recorder;

static void
recorder_init (Recorder *r)
{
  memset (r, 0, sizeof *r);
  for (int i = 0; i < 2; i++)
    {
      r->log[i] = g_string_new (NULL);
      r->app[i] = g_byte_array_new ();
    }
  r->handshakes = g_string_new (NULL);
  r->cert_validity = -1;
}

static void
recorder_clear (Recorder *r)
{
  for (int i = 0; i < 2; i++)
    {
      g_string_free (r->log[i], TRUE);
      g_byte_array_unref (r->app[i]);
    }
  g_string_free (r->handshakes, TRUE);
  g_free (r->sni);
  g_free (r->alpn);
  g_free (r->cert_subject);
  g_free (r->cert_sans);
  g_free (r->early_app);
}

static void
append_list16 (GString *s, const char *name, const guint16 *list, guint n)
{
  g_string_append_printf (s, " %s=", name);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%s%04x", i ? "," : "", list[i]);
}

static void
on_event (const TsTlsEvent *ev, gpointer user_data)
{
  Recorder *r = user_data;
  GString *s = r->log[ev->direction];

  g_assert_true (ev->direction == TS_TLS_DIR_CLIENT || ev->direction == TS_TLS_DIR_SERVER);
  g_assert_cmpuint (ev->offset, <=, ev->end_offset);
  g_string_append_printf (s, "%s %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " %c%c%s",
                          ts_tls_event_kind_to_string (ev->kind), ev->offset, ev->end_offset,
                          ev->encrypted ? 'E' : '-', ev->decrypted ? 'D' : '-',
                          ev->early ? " early" : "");

  switch (ev->kind)
    {
      case TS_TLS_EVENT_RECORD:
        g_string_append_printf (s, " type=%u ver=%04x len=%u seq=%" G_GUINT64_FORMAT,
                                ev->content_type, ev->record_version, ev->record_length,
                                ev->record_seq);
        if (ev->decrypted)
          r->n_decrypted_records++;
        break;

      case TS_TLS_EVENT_HANDSHAKE:
        {
          const TsTlsHandshake *hs = ev->handshake;

          g_string_append_printf (s, " %s len=%u",
                                  ts_tls_handshake_type_to_string (hs->type) ?: "?", hs->length);
          g_string_append_printf (r->handshakes, "%c:%s%s ", ev->direction ? 'S' : 'C',
                                  ts_tls_handshake_type_to_string (hs->type) ?: "?",
                                  ev->decrypted ? "*" : "");
          if (hs->server_name != NULL)
            {
              g_string_append_printf (s, " sni=%s", hs->server_name);
              g_free (r->sni);
              r->sni = g_strdup (hs->server_name);
            }
          for (guint i = 0; i < hs->n_alpn; i++)
            g_string_append_printf (s, " alpn=%s", hs->alpn[i]);
          if (hs->type != TS_TLS_HS_CLIENT_HELLO && hs->n_alpn > 0)
            {
              g_free (r->alpn);
              r->alpn = g_strdup (hs->alpn[0]);
            }
          append_list16 (s, "suites", hs->cipher_suites, hs->n_cipher_suites);
          append_list16 (s, "versions", hs->supported_versions, hs->n_supported_versions);
          append_list16 (s, "groups", hs->supported_groups, hs->n_supported_groups);
          append_list16 (s, "shares", hs->key_share_groups, hs->n_key_share_groups);
          append_list16 (s, "ext", hs->extensions, hs->n_extensions);
          if (hs->selected_version)
            g_string_append_printf (s, " selected=%04x", hs->selected_version);
          if (hs->is_hello_retry_request)
            {
              g_string_append (s, " hrr");
              r->hrr = TRUE;
            }
          if (hs->random != NULL)
            {
              g_string_append (s, " random=");
              for (int i = 0; i < 32; i++)
                g_string_append_printf (s, "%02x", hs->random[i]);
            }
          if (hs->type == TS_TLS_HS_KEY_UPDATE)
            {
              g_string_append_printf (s, " requested=%d", hs->update_requested);
              r->n_key_updates++;
            }
          if (hs->type == TS_TLS_HS_NEW_SESSION_TICKET)
            g_string_append_printf (s, " lifetime=%u", hs->ticket_lifetime);
          g_string_append_printf (s, " certs=%u/%u", hs->n_certificates, hs->n_certificates_total);
          for (guint i = 0; i < hs->n_certificates; i++)
            {
              const TsTlsCertificate *c = &hs->certificates[i];
              g_autofree char *fp = NULL;
              g_autoptr (GString) sans = g_string_new (NULL);

              fp = g_compute_checksum_for_data (G_CHECKSUM_SHA256, c->der, c->der_len);
              for (guint j = 0; j < 32; j++)
                {
                  char b[3];

                  g_snprintf (b, sizeof b, "%02x", c->sha256[j]);
                  g_assert_cmpint (b[0], ==, fp[2 * j]);
                  g_assert_cmpint (b[1], ==, fp[2 * j + 1]);
                }
              for (guint j = 0; j < c->n_sans; j++)
                g_string_append_printf (sans, "%s%s", j ? "," : "", c->sans[j]);
              g_string_append_printf (
                  s,
                  " [subject=%s issuer=%s sans=%s nb=%" G_GINT64_FORMAT " na=%" G_GINT64_FORMAT
                  " validity=%d ca=%d self=%d fp=%.16s]",
                  c->parsed ? c->subject : "?", c->parsed ? c->issuer : "?", sans->str,
                  c->not_before, c->not_after, c->validity, c->is_ca, c->self_issued, fp);
              if (i == 0 && c->parsed)
                {
                  g_free (r->cert_subject);
                  r->cert_subject = g_strdup (c->subject);
                  g_free (r->cert_sans);
                  r->cert_sans = g_strdup (sans->str);
                  r->cert_validity = c->validity;
                }
            }
          if (hs->truncated)
            g_string_append (s, " truncated");
        }
        break;

      case TS_TLS_EVENT_ALERT:
        g_string_append_printf (s, " %u/%u", ev->alert_level, ev->alert_description);
        r->n_alerts++;
        break;

      case TS_TLS_EVENT_APPLICATION_DATA:
      case TS_TLS_EVENT_OPAQUE:
      case TS_TLS_EVENT_CHANGE_CIPHER_SPEC:
        {
          g_autofree char *sum = g_compute_checksum_for_data (G_CHECKSUM_SHA1, ev->data, ev->len);

          g_string_append_printf (s, " len=%" G_GSIZE_FORMAT " sha1=%.12s", ev->len, sum);
          if (ev->kind == TS_TLS_EVENT_APPLICATION_DATA)
            g_byte_array_append (r->app[ev->direction], ev->data, (guint)ev->len);
          if (ev->kind == TS_TLS_EVENT_APPLICATION_DATA && ev->early)
            {
              g_free (r->early_app);
              r->early_app = g_strndup ((const char *)ev->data, ev->len);
            }
          if (ev->kind == TS_TLS_EVENT_OPAQUE)
            r->n_opaque++;
        }
        break;

      case TS_TLS_EVENT_ANOMALY:
        g_assert_nonnull (ev->detail);
        g_string_append_printf (s, " %s: %s", ts_tls_anomaly_to_string (ev->anomaly), ev->detail);
        r->n_anomalies++;
        g_assert_cmpuint (ev->anomaly, <, G_N_ELEMENTS (r->n_anomaly_kind));
        r->n_anomaly_kind[ev->anomaly]++;
        if (g_test_verbose ())
          g_printerr ("anomaly (%s): %s\n", ts_tls_direction_to_string (ev->direction), ev->detail);
        break;
    }
  g_string_append_c (s, '\n');
}

typedef enum
{
  FEED_WHOLE,
  FEED_BYTES,     /* one byte per call */
  FEED_KEYS_LATE, /* the key log only after all the records, then poll */
} FeedMode;

/* Runs @t through a new session; stops after @limit bytes (G_MAXSIZE: all). */
static void
run_trace (Trace *t, FeedMode mode, gsize limit, Recorder *r)
{
  g_autoptr (TsTlsKeylog) keylog = ts_tls_keylog_new ();
  g_autoptr (TsTlsSession) session = NULL;
  gsize fed = 0;

  recorder_init (r);
  if (mode != FEED_KEYS_LATE)
    {
      ts_tls_keylog_feed (keylog, t->keylog->str, t->keylog->len);
      ts_tls_keylog_end (keylog);
    }
  session = ts_tls_session_new (keylog, on_event, r);

  for (guint i = 0; i < t->segments->len && fed < limit; i++)
    {
      Segment *seg = &g_array_index (t->segments, Segment, i);
      gsize len;
      const guint8 *data = g_bytes_get_data (seg->bytes, &len);

      len = MIN (len, limit - fed);
      fed += len;
      if (mode == FEED_BYTES)
        {
          for (gsize j = 0; j < len; j++)
            {
              /* A copy of exactly one byte, so ASan sees any over-read. */
              guint8 *one = g_memdup2 (data + j, 1);

              ts_tls_session_feed (session, seg->dir, one, 1, t->time_us);
              g_free (one);
            }
        }
      else
        {
          guint8 *copy = g_memdup2 (data, len);

          ts_tls_session_feed (session, seg->dir, copy, len, t->time_us);
          g_free (copy);
        }
    }

  if (mode == FEED_KEYS_LATE)
    {
      /* The secrets arrive in two halves, split inside a line. */
      gsize half = t->keylog->len / 2;

      ts_tls_keylog_feed (keylog, t->keylog->str, half);
      ts_tls_session_poll (session, t->time_us);
      ts_tls_keylog_feed (keylog, t->keylog->str + half, t->keylog->len - half);
      ts_tls_keylog_end (keylog);
      ts_tls_session_poll (session, t->time_us);
    }
  ts_tls_session_finish (session);
}

/* The events of a run without anomalies: what a cut run must be a prefix of.
 * With @undecrypted, also without the records left undecrypted: a cut
 * before the ServerHello leaves 0-RTT records opaque that the whole run
 * decrypts. */
static char *
strip_anomalies (const char *log, gboolean undecrypted)
{
  g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
  GString *s = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && !g_str_has_prefix (lines[i], "anomaly ")
        && !(undecrypted && (g_str_has_prefix (lines[i], "opaque ") || strstr (lines[i], " E- "))))
      g_string_append_printf (s, "%s\n", lines[i]);
  return g_string_free (s, FALSE);
}

/* Every cut of @t reports a prefix of the whole run's events, plus at most
 * anomalies; never crashes or reads past the input (ASan). All cuts in the
 * first @dense bytes, then about 300 more spread over the rest. */
static void
check_truncations (Trace *t, gsize dense)
{
  Recorder full;
  g_autofree char *full_client = NULL;
  g_autofree char *full_server = NULL;
  const char *full_log[2];
  gsize total = trace_total (t);
  gsize stride;

  run_trace (t, FEED_WHOLE, G_MAXSIZE, &full);
  full_log[0] = full_client = strip_anomalies (full.log[0]->str, FALSE);
  full_log[1] = full_server = strip_anomalies (full.log[1]->str, FALSE);
  recorder_clear (&full);

  stride = total > dense ? MAX ((total - dense) / 300, 1) : 1;
  for (gsize cut = 0; cut < total; cut += cut < dense ? 1 : stride)
    {
      Recorder r;

      run_trace (t, FEED_WHOLE, cut, &r);
      for (int d = 0; d < 2; d++)
        {
          g_autofree char *log = strip_anomalies (r.log[d]->str, TRUE);

          if (!g_str_has_prefix (full_log[d], log))
            g_error ("cut at %" G_GSIZE_FORMAT ", %s: not a prefix of the whole run:\n%s\n----\n%s",
                     cut, ts_tls_direction_to_string (d), log, full_log[d]);
        }
      recorder_clear (&r);
    }
}

/* Fed one byte at a time, and with the key log after the records: the same
 * events as fed whole. */
static void
check_chunking (Trace *t)
{
  Recorder whole, bytes, late;

  run_trace (t, FEED_WHOLE, G_MAXSIZE, &whole);
  run_trace (t, FEED_BYTES, G_MAXSIZE, &bytes);
  run_trace (t, FEED_KEYS_LATE, G_MAXSIZE, &late);
  for (int d = 0; d < 2; d++)
    {
      g_assert_cmpstr (bytes.log[d]->str, ==, whole.log[d]->str);
      g_assert_cmpstr (late.log[d]->str, ==, whole.log[d]->str);
    }
  recorder_clear (&whole);
  recorder_clear (&bytes);
  recorder_clear (&late);
}

/* With TS_TLS_FUZZ_SEEDS=DIR, each trace is also written to DIR/NAME in the
 * input format of fuzz-tls (chunks of at most 127 bytes, a control byte
 * each: bit 7 the direction, bits 0-6 the length), to seed the fuzzer; cut
 * at 4 KiB, libFuzzer's default -max_len, which holds the handshakes. */
static void
maybe_write_seed (Trace *t, const char *name)
{
  const char *dir = g_getenv ("TS_TLS_FUZZ_SEEDS");
  g_autoptr (GByteArray) out = NULL;
  g_autofree char *path = NULL;
  g_autofree char *file = NULL;

  if (dir == NULL)
    return;
  out = g_byte_array_new ();
  for (guint i = 0; i < t->segments->len; i++)
    {
      Segment *seg = &g_array_index (t->segments, Segment, i);
      gsize len;
      const guint8 *data = g_bytes_get_data (seg->bytes, &len);

      for (gsize off = 0; off < len && out->len + 128 <= 4096; off += 127)
        {
          guint8 control
              = (guint8)((seg->dir == TS_TLS_DIR_SERVER ? 0x80 : 0) | MIN (127, len - off));

          g_byte_array_append (out, &control, 1);
          g_byte_array_append (out, data + off, (guint)MIN (127, len - off));
        }
    }
  if (g_str_has_prefix (name, "/ts/trace/tls/"))
    name += strlen ("/ts/trace/tls/");
  file = g_strdelimit (g_strdup (name), "/", '-');
  path = g_build_filename (dir, file, NULL);
  g_assert_true (g_file_set_contents (path, (const char *)out->data, out->len, NULL));
}

/* ---- RFC 8448 §3 Simple 1-RTT Handshake (TLS_AES_128_GCM_SHA256) ---- */

/* The records of the trace as the RFC prints them ("complete record"). */
static const char rfc8448_client_hello_record[] = "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb"
                                                  "196a6dffa21a8d9912ec18a2ef6283024dece70000061301"
                                                  "13031302010000910000000b0009000006736572766572ff"
                                                  "01000100000a00140012001d001700180019010001010102"
                                                  "0103010400230000003300260024001d002099381de560e4"
                                                  "bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529a"
                                                  "af2c002b0003020304000d0020001e040305030603020308"
                                                  "040805080604010501060102010402050206020202002d00"
                                                  "020101001c00024001";

static const char rfc8448_server_hello_record[]
    = "160303005a"
      "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e0033"
      "0024"
      "001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";

/* EncryptedExtensions, Certificate, CertificateVerify, Finished under the
 * server handshake traffic key. */
static const char rfc8448_server_flight_record[]
    = "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848"
      "a7ca"
      "07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7"
      "b13b"
      "d9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325"
      "250c"
      "7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd6"
      "1092"
      "8d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fc"
      "f2a8"
      "9441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5"
      "e22f"
      "4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f2"
      "92a3"
      "6ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3"
      "bd7e"
      "1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48"
      "052c"
      "f93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881"
      "edbe"
      "5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa3"
      "88cb"
      "5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b6676"
      "3038"
      "ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd5"
      "0278"
      "4016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be"
      "898e"
      "750edc53370d2b";

static const char rfc8448_client_finished_record[]
    = "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384"
      "bd1c"
      "aeacab6867d726c40546";

static const char rfc8448_new_session_ticket_record[]
    = "17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3d11d63c758db"
      "289a"
      "015940252f55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f"
      "75e0"
      "9c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406f16e3fc181a77ca475840025db2f"
      "0a77"
      "f81b5ab05b94c01346755f69232c86519d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe513712"
      "1c74"
      "bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf15985684f";

static const char rfc8448_client_app_record[] = "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42"
                                                "f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b"
                                                "62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4";

static const char rfc8448_server_app_record[] = "17030300432e937e11ef4ac740e538ad36005fc4a46932fc32"
                                                "25d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8"
                                                "fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d";

static const char rfc8448_client_close_record[]
    = "1703030013c9872760655666b74d7ff1153efd6db6d0b0e3";
static const char rfc8448_server_close_record[]
    = "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9";

/* Intermediate values the RFC prints. */
static const char rfc8448_client_random[]
    = "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7";
static const char rfc8448_client_hs_secret[]
    = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
static const char rfc8448_server_hs_secret[]
    = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
static const char rfc8448_master_secret[]
    = "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919";

/* The test's own HKDF-Expand-Label (RFC 8446 §7.1), independent of the
 * library's, through OpenSSL's HKDF in expand-only mode. */
static void
test_expand_label (const guint8 *secret, gsize secret_len, const char *label, const guint8 *ctx,
                   gsize ctx_len, guint8 *out, gsize out_len)
{
  g_autoptr (GByteArray) info = g_byte_array_new ();
  guint8 b;
  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  EVP_KDF *kdf = EVP_KDF_fetch (NULL, "HKDF", NULL);
  EVP_KDF_CTX *kctx = EVP_KDF_CTX_new (kdf);
  OSSL_PARAM params[5];

  b = (guint8)(out_len >> 8);
  g_byte_array_append (info, &b, 1);
  b = (guint8)out_len;
  g_byte_array_append (info, &b, 1);
  b = (guint8)(6 + strlen (label));
  g_byte_array_append (info, &b, 1);
  g_byte_array_append (info, (const guint8 *)"tls13 ", 6);
  g_byte_array_append (info, (const guint8 *)label, (guint)strlen (label));
  b = (guint8)ctx_len;
  g_byte_array_append (info, &b, 1);
  g_byte_array_append (info, ctx, (guint)ctx_len);

  params[0] = OSSL_PARAM_construct_int (OSSL_KDF_PARAM_MODE, &mode);
  params[1] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
  params[2] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY, (void *)secret, secret_len);
  params[3] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO, info->data, info->len);
  params[4] = OSSL_PARAM_construct_end ();
  g_assert_cmpint (EVP_KDF_derive (kctx, out, out_len, params), ==, 1);
  EVP_KDF_CTX_free (kctx);
  EVP_KDF_free (kdf);
}

/* The RFC's handshake messages in clear, for the transcript hash. */
static const char rfc8448_server_plain_handshake[] =
    /* EncryptedExtensions */
    "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000"
    /* Certificate */
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c30"
    "0a"
    "06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c30"
    "0a"
    "0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d"
    "98"
    "0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43"
    "12"
    "0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1"
    "d0"
    "3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b0603"
    "55"
    "1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c"
    "5f"
    "8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf1"
    "02"
    "702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0c"
    "c8"
    "f8961229ac9187b42b4de10000"
    /* CertificateVerify */
    "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2"
    "d3"
    "3a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e4644"
    "5c"
    "9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3"
    /* Finished */
    "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718";

static char *
hexstr (const guint8 *b, gsize n)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", b[i]);
  return g_string_free (s, FALSE);
}

static Trace *
make_rfc8448_trace (void)
{
  Trace *t = trace_new ();
  g_autoptr (GChecksum) transcript = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 th[32], cats[32], sats[32];
  gsize th_len = sizeof th, n;
  g_autofree guint8 *ch = unhex (rfc8448_client_hello_record, &n);
  g_autofree guint8 *sh = NULL;
  g_autofree guint8 *flight = NULL;
  g_autofree guint8 *master = NULL;
  g_autofree char *cats_hex = NULL;
  g_autofree char *sats_hex = NULL;

  /* RFC 8446 §7.1: [sender]_application_traffic_secret_0 =
   *   Derive-Secret(Master Secret, "c ap traffic" / "s ap traffic",
   *                 ClientHello...server Finished). */
  g_checksum_update (transcript, ch + 5, (gssize)n - 5);
  sh = unhex (rfc8448_server_hello_record, &n);
  g_checksum_update (transcript, sh + 5, (gssize)n - 5);
  flight = unhex (rfc8448_server_plain_handshake, &n);
  g_checksum_update (transcript, flight, (gssize)n);
  g_checksum_get_digest (transcript, th, &th_len);
  master = unhex (rfc8448_master_secret, &n);
  test_expand_label (master, n, "c ap traffic", th, sizeof th, cats, sizeof cats);
  test_expand_label (master, n, "s ap traffic", th, sizeof th, sats, sizeof sats);
  cats_hex = hexstr (cats, sizeof cats);
  sats_hex = hexstr (sats, sizeof sats);

  g_string_append_printf (t->keylog,
                          "# RFC 8448 section 3\n"
                          "CLIENT_HANDSHAKE_TRAFFIC_SECRET %s %s\n"
                          "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\r\n"
                          "CLIENT_TRAFFIC_SECRET_0 %s %s\n"
                          "SERVER_TRAFFIC_SECRET_0 %s %s\n",
                          rfc8448_client_random, rfc8448_client_hs_secret, rfc8448_client_random,
                          rfc8448_server_hs_secret, rfc8448_client_random, cats_hex,
                          rfc8448_client_random, sats_hex);

  trace_add_hex (t, TS_TLS_DIR_CLIENT, rfc8448_client_hello_record);
  trace_add_hex (t, TS_TLS_DIR_SERVER, rfc8448_server_hello_record);
  trace_add_hex (t, TS_TLS_DIR_SERVER, rfc8448_server_flight_record);
  trace_add_hex (t, TS_TLS_DIR_CLIENT, rfc8448_client_finished_record);
  trace_add_hex (t, TS_TLS_DIR_SERVER, rfc8448_new_session_ticket_record);
  trace_add_hex (t, TS_TLS_DIR_CLIENT, rfc8448_client_app_record);
  trace_add_hex (t, TS_TLS_DIR_SERVER, rfc8448_server_app_record);
  trace_add_hex (t, TS_TLS_DIR_CLIENT, rfc8448_client_close_record);
  trace_add_hex (t, TS_TLS_DIR_SERVER, rfc8448_server_close_record);

  /* RFC 8448 §3: both sides send the bytes 00 01 02 ... 31. */
  for (guint8 i = 0; i < 50; i++)
    {
      g_byte_array_append (t->app[0], &i, 1);
      g_byte_array_append (t->app[1], &i, 1);
    }
  /* The RFC's certificate is valid from 2016-07-30 to 2026-07-30. */
  t->time_us = G_GINT64_CONSTANT (1600000000) * G_USEC_PER_SEC;
  return t;
}

static void
test_rfc8448 (void)
{
  g_autoptr (Trace) t = make_rfc8448_trace ();
  Recorder r;

  maybe_write_seed (t, "rfc8448");
  run_trace (t, FEED_WHOLE, G_MAXSIZE, &r);
  if (g_test_verbose ())
    g_printerr ("client:\n%s\nserver:\n%s\n", r.log[0]->str, r.log[1]->str);

  g_assert_cmpuint (r.n_anomalies, ==, 0);
  g_assert_cmpstr (r.handshakes->str, ==,
                   "C:client_hello S:server_hello S:encrypted_extensions* S:certificate* "
                   "S:certificate_verify* S:finished* C:finished* S:new_session_ticket* ");
  g_assert_cmpstr (r.sni, ==, "server");
  g_assert_cmpstr (r.cert_subject, ==, "CN=rsa");
  g_assert_cmpint (r.cert_validity, ==, TS_TLS_CERT_VALID);
  g_assert_cmpmem (r.app[0]->data, r.app[0]->len, t->app[0]->data, t->app[0]->len);
  g_assert_cmpmem (r.app[1]->data, r.app[1]->len, t->app[1]->data, t->app[1]->len);
  g_assert_cmpuint (r.n_alerts, ==, 2);
  g_assert_nonnull (strstr (r.log[0]->str, "alert 331-355 ED 1/0"));
  /* The ClientHello's fields. */
  g_assert_nonnull (strstr (r.log[0]->str, " suites=1301,1303,1302 versions=0304 "
                                           "groups=001d,0017,0018,0019,0100,0101,0102,0103,0104 "
                                           "shares=001d "));
  g_assert_nonnull (strstr (r.log[1]->str, "server_hello len=86 suites=1301 versions=0304"));
  g_assert_nonnull (strstr (r.log[1]->str, "selected=0304"));
  g_assert_nonnull (strstr (r.log[1]->str, "new_session_ticket len=201"));
  /* The records: handshake flight at server offset 95, 679 bytes. */
  g_assert_nonnull (strstr (r.log[1]->str, "record 95-774 ED type=23 ver=0303 len=674 seq=0"));
  g_assert_nonnull (strstr (r.log[1]->str, "certificate len=441 "));
  recorder_clear (&r);

  /* The certificate, judged after its notAfter: expired. */
  t->time_us = G_GINT64_CONSTANT (1800000000) * G_USEC_PER_SEC;
  run_trace (t, FEED_WHOLE, G_MAXSIZE, &r);
  g_assert_cmpint (r.cert_validity, ==, TS_TLS_CERT_EXPIRED);
  recorder_clear (&r);
}

static void
test_rfc8448_chunking (void)
{
  g_autoptr (Trace) t = make_rfc8448_trace ();

  check_chunking (t);
}

static void
test_rfc8448_truncated (void)
{
  g_autoptr (Trace) t = make_rfc8448_trace ();

  check_truncations (t, G_MAXSIZE);
}

static void
test_rfc8448_no_keys (void)
{
  g_autoptr (Trace) t = make_rfc8448_trace ();
  Recorder r;

  /* No key log at all: the protected records are opaque, reported at once. */
  g_string_truncate (t->keylog, 0);
  run_trace (t, FEED_WHOLE, G_MAXSIZE, &r);
  g_assert_cmpstr (r.handshakes->str, ==, "C:client_hello S:server_hello ");
  g_assert_cmpuint (r.n_opaque, ==, 7);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_MISSING_KEYS], ==, 2);
  g_assert_cmpuint (r.app[0]->len, ==, 0);
  recorder_clear (&r);

  /* A wrong secret: decryption fails, the analysis goes on. */
  g_string_assign (t->keylog, "SERVER_HANDSHAKE_TRAFFIC_SECRET "
                              "cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
                              "0000000000000000000000000000000000000000000000000000000000000000\n");
  run_trace (t, FEED_WHOLE, G_MAXSIZE, &r);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_DECRYPT_FAILED], ==, 4);
  recorder_clear (&r);
}

/* ---- traces made with OpenSSL over memory BIOs ---- */

static void
keylog_cb (const SSL *ssl, const char *line)
{
  GString *out = SSL_CTX_get_app_data (SSL_get_SSL_CTX (ssl));

  g_string_append_printf (out, "%s\n", line);
}

static int
alpn_select_cb (SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                unsigned int inlen, void *arg)
{
  static const unsigned char ours[] = "\x08http/1.1";

  if (SSL_select_next_proto ((unsigned char **)out, outlen, ours, sizeof ours - 1, in, inlen)
      != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  return SSL_TLSEXT_ERR_OK;
}

static void
make_identity (EVP_PKEY **out_key, X509 **out_cert)
{
  EVP_PKEY *key = EVP_EC_gen ("P-256");
  X509 *x = X509_new ();
  X509_NAME *name = X509_NAME_new ();
  X509V3_CTX ctx;
  X509_EXTENSION *ext;

  g_assert_nonnull (key);
  X509_set_version (x, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (x), 1);
  g_assert_true (ASN1_TIME_set_string (X509_getm_notBefore (x), "20260101000000Z"));
  g_assert_true (ASN1_TIME_set_string (X509_getm_notAfter (x), "20270101000000Z"));
  X509_NAME_add_entry_by_txt (name, "O", MBSTRING_ASC, (const unsigned char *)"Tunnelscope Lab", -1,
                              -1, 0);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const unsigned char *)"example.com", -1,
                              -1, 0);
  X509_set_subject_name (x, name);
  X509_set_issuer_name (x, name);
  X509_set_pubkey (x, key);
  X509V3_set_ctx (&ctx, x, x, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, NID_subject_alt_name,
                             "DNS:example.com,DNS:www.example.com,IP:192.0.2.10,IP:2001:db8::10");
  g_assert_nonnull (ext);
  X509_add_ext (x, ext, -1);
  X509_EXTENSION_free (ext);
  g_assert_cmpint (X509_sign (x, key, EVP_sha256 ()), >, 0);
  X509_NAME_free (name);
  *out_key = key;
  *out_cert = x;
}

typedef struct
{
  int version;        /* TLS1_2_VERSION, TLS1_3_VERSION */
  const char *cipher; /* TLS 1.2 cipher list, or TLS 1.3 ciphersuites */
  gboolean key_update;
  gboolean small_records; /* also a burst of tiny records */
  gboolean hrr;           /* the server wants another group: HelloRetryRequest */
  gboolean early_data;    /* a resumed session that sends 0-RTT data */
  gboolean no_etm;        /* CBC: MAC-then-encrypt, not RFC 7366 encrypt_then_mac */
  gboolean renegotiate;   /* TLS 1.2: the client renegotiates, then both send again */
  /* At the end, the server sends n_bulk full (16 KiB) records, n_tiny
   * one-byte records, then n_bulk_after full records. */
  guint n_bulk, n_tiny, n_bulk_after;
} TraceSpec;

typedef struct
{
  SSL *ssl[2]; /* client, server */
  BIO *in[2];  /* what each reads */
  BIO *out[2]; /* what each writes */
  Trace *t;
} Pair;

/* Moves what each side wrote to the other, recording it. Returns the bytes moved. */
static gsize
pump (Pair *p)
{
  gsize moved = 0;

  for (int side = 0; side < 2; side++)
    {
      char *data;
      long n = BIO_get_mem_data (p->out[side], &data);

      if (n > 0)
        {
          trace_add (p->t, side == 0 ? TS_TLS_DIR_CLIENT : TS_TLS_DIR_SERVER, (guint8 *)data,
                     (gsize)n);
          g_assert_cmpint (BIO_write (p->in[1 - side], data, (int)n), ==, n);
          moved += (gsize)n;
          (void)BIO_reset (p->out[side]);
        }
    }
  return moved;
}

static void
pair_write (Pair *p, int side, const guint8 *data, gsize len)
{
  gsize done = 0;

  while (done < len)
    {
      size_t written = 0;

      g_assert_cmpint (SSL_write_ex (p->ssl[side], data + done, len - done, &written), ==, 1);
      done += written;
      pump (p);
    }
  g_byte_array_append (p->t->app[side], data, (guint)len);
}

/* Reads on @side until @want bytes arrived. */
static void
pair_read (Pair *p, int side, gsize want)
{
  guint8 buf[4096];
  gsize got = 0;

  for (int spins = 0; got < want && spins < 1000; spins++)
    {
      size_t n = 0;

      if (SSL_read_ex (p->ssl[side], buf, sizeof buf, &n) == 1)
        got += n;
      pump (p);
    }
  g_assert_cmpuint (got, ==, want);
}

static void
pair_new (Pair *p, SSL_CTX **ctx, SSL_SESSION *session)
{
  for (int i = 0; i < 2; i++)
    {
      p->ssl[i] = SSL_new (ctx[i]);
      p->in[i] = BIO_new (BIO_s_mem ());
      p->out[i] = BIO_new (BIO_s_mem ());
      BIO_set_mem_eof_return (p->in[i], -1);
      SSL_set_bio (p->ssl[i], p->in[i], p->out[i]);
    }
  SSL_set_connect_state (p->ssl[0]);
  SSL_set_accept_state (p->ssl[1]);
  SSL_set_tlsext_host_name (p->ssl[0], "example.com");
  if (session != NULL)
    g_assert_cmpint (SSL_set_session (p->ssl[0], session), ==, 1);
}

static void
pair_handshake (Pair *p)
{
  for (int spins = 0; spins < 50; spins++)
    {
      SSL_do_handshake (p->ssl[0]);
      SSL_do_handshake (p->ssl[1]);
      if (pump (p) == 0 && SSL_is_init_finished (p->ssl[0]) && SSL_is_init_finished (p->ssl[1]))
        break;
    }
  g_assert_true (SSL_is_init_finished (p->ssl[0]) && SSL_is_init_finished (p->ssl[1]));
}

static void
pair_connect (Pair *p, SSL_CTX **ctx, SSL_SESSION *session)
{
  pair_new (p, ctx, session);
  pair_handshake (p);
}

static void
pair_close (Pair *p)
{
  SSL_shutdown (p->ssl[0]);
  pump (p);
  SSL_shutdown (p->ssl[1]);
  pump (p);
  SSL_free (p->ssl[0]);
  SSL_free (p->ssl[1]);
}

static Trace *
make_openssl_trace (const TraceSpec *spec)
{
  Trace *t = trace_new ();
  SSL_CTX *ctx[2];
  EVP_PKEY *key;
  X509 *cert;
  Pair p = { .t = t };
  static const unsigned char alpn[] = "\x02h2\x08http/1.1";
  g_autoptr (GByteArray) request = g_byte_array_new ();
  g_autoptr (GByteArray) response = g_byte_array_new ();

  make_identity (&key, &cert);
  ctx[0] = SSL_CTX_new (TLS_client_method ());
  ctx[1] = SSL_CTX_new (TLS_server_method ());
  for (int i = 0; i < 2; i++)
    {
      g_assert_true (SSL_CTX_set_min_proto_version (ctx[i], spec->version));
      g_assert_true (SSL_CTX_set_max_proto_version (ctx[i], spec->version));
      if (spec->version == TLS1_3_VERSION)
        g_assert_true (SSL_CTX_set_ciphersuites (ctx[i], spec->cipher));
      else
        g_assert_true (SSL_CTX_set_cipher_list (ctx[i], spec->cipher));
    }
  if (spec->no_etm)
    SSL_CTX_set_options (ctx[0], SSL_OP_NO_ENCRYPT_THEN_MAC);
  if (spec->renegotiate)
    SSL_CTX_set_options (ctx[1], SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
  if (spec->hrr)
    {
      /* The client sends an X25519 share; the server only takes P-256. */
      g_assert_true (SSL_CTX_set1_groups_list (ctx[0], "X25519:P-256"));
      g_assert_true (SSL_CTX_set1_groups_list (ctx[1], "P-256"));
    }
  SSL_CTX_set_app_data (ctx[0], t->keylog);
  SSL_CTX_set_keylog_callback (ctx[0], keylog_cb);
  g_assert_cmpint (SSL_CTX_use_certificate (ctx[1], cert), ==, 1);
  g_assert_cmpint (SSL_CTX_use_PrivateKey (ctx[1], key), ==, 1);
  SSL_CTX_set_alpn_select_cb (ctx[1], alpn_select_cb, NULL);
  g_assert_cmpint (SSL_CTX_set_alpn_protos (ctx[0], alpn, sizeof alpn - 1), ==, 0);

  if (spec->early_data)
    {
      /* A first connection, not recorded, for a session ticket that allows early data. */
      g_autoptr (Trace) first = trace_new ();
      Pair q = { .t = first };
      SSL_SESSION *session;
      static const guint8 hello[] = "hello";
      static const guint8 early[] = "GET /early HTTP/1.1\r\nHost: example.com\r\n\r\n";
      size_t written = 0, n = 0;
      guint8 buf[256];
      int ret;

      SSL_CTX_set_max_early_data (ctx[1], 16384);
      SSL_CTX_set_options (ctx[1], SSL_OP_NO_ANTI_REPLAY);
      pair_connect (&q, ctx, NULL);
      pair_write (&q, 1, hello, 5);
      pair_read (&q, 0, 5);
      session = SSL_get1_session (q.ssl[0]);
      g_assert_nonnull (session);
      g_assert_cmpuint (SSL_SESSION_get_max_early_data (session), >, 0);
      pair_close (&q);

      p.ssl[0] = NULL;
      pair_new (&p, ctx, session);
      SSL_SESSION_free (session);
      g_assert_cmpint (SSL_write_early_data (p.ssl[0], early, sizeof early - 1, &written), ==, 1);
      g_byte_array_append (t->app[0], early, (guint)written);
      pump (&p);
      /* The server reads the early data, then answers with its flight. */
      for (int spins = 0; spins < 20; spins++)
        {
          ret = SSL_read_early_data (p.ssl[1], buf, sizeof buf, &n);
          pump (&p);
          if (ret == SSL_READ_EARLY_DATA_FINISH)
            break;
          if (ret == SSL_READ_EARLY_DATA_ERROR)
            {
              /* It wants the client's EndOfEarlyData: let the client go on. */
              g_assert_cmpint (SSL_get_error (p.ssl[1], ret), ==, SSL_ERROR_WANT_READ);
              SSL_do_handshake (p.ssl[0]);
              pump (&p);
            }
        }
      g_assert_cmpint (ret, ==, SSL_READ_EARLY_DATA_FINISH);
      g_assert_cmpint (SSL_get_early_data_status (p.ssl[1]), ==, SSL_EARLY_DATA_ACCEPTED);
      pair_handshake (&p);
      g_assert_cmpint (SSL_get_early_data_status (p.ssl[0]), ==, SSL_EARLY_DATA_ACCEPTED);
    }
  else
    pair_connect (&p, ctx, NULL);

  /* A request bigger than one record, and a response. */
  g_byte_array_append (request, (const guint8 *)"GET / HTTP/1.1\r\nHost: example.com\r\n", 35);
  for (guint i = 0; i < 20000; i++)
    {
      guint8 b = (guint8)('a' + i % 26);

      g_byte_array_append (request, &b, 1);
    }
  g_byte_array_append (response,
                       (const guint8 *)"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 43);

  pair_write (&p, 0, request->data, request->len);
  pair_read (&p, 1, request->len);
  pair_write (&p, 1, response->data, response->len);
  pair_read (&p, 0, response->len);

  if (spec->key_update)
    {
      static const guint8 after[] = "data under the updated client key";
      static const guint8 reply[] = "and under the updated server key";

      g_assert_cmpint (SSL_key_update (p.ssl[0], SSL_KEY_UPDATE_REQUESTED), ==, 1);
      pair_write (&p, 0, after, sizeof after - 1);
      pair_read (&p, 1, sizeof after - 1);
      pair_write (&p, 1, reply, sizeof reply - 1);
      pair_read (&p, 0, sizeof reply - 1);
      /* And a second update from the server, unrequested. */
      g_assert_cmpint (SSL_key_update (p.ssl[1], SSL_KEY_UPDATE_NOT_REQUESTED), ==, 1);
      pair_write (&p, 1, reply, sizeof reply - 1);
      pair_read (&p, 0, sizeof reply - 1);
    }

  if (spec->renegotiate)
    {
      static const guint8 after[] = "data under the renegotiated client keys";
      static const guint8 reply[] = "and under the renegotiated server keys";
      guint8 buf[256];
      size_t n;

      /* A full handshake inside the protected records: the server takes
       * the new ClientHello as it reads. */
      g_assert_cmpint (SSL_renegotiate (p.ssl[0]), ==, 1);
      for (int spins = 0; spins < 50 && SSL_renegotiate_pending (p.ssl[0]); spins++)
        {
          SSL_do_handshake (p.ssl[0]);
          pump (&p);
          (void)SSL_read_ex (p.ssl[1], buf, sizeof buf, &n);
          pump (&p);
        }
      g_assert_false (SSL_renegotiate_pending (p.ssl[0]));
      pair_write (&p, 0, after, sizeof after - 1);
      pair_read (&p, 1, sizeof after - 1);
      pair_write (&p, 1, reply, sizeof reply - 1);
      pair_read (&p, 0, sizeof reply - 1);
    }

  if (spec->small_records)
    for (guint8 i = 0; i < 20; i++)
      {
        pair_write (&p, i % 2, &i, 1);
        pair_read (&p, 1 - i % 2, 1);
      }

  for (guint i = 0; i < spec->n_bulk + spec->n_tiny + spec->n_bulk_after; i++)
    {
      /* Each record its own bytes, so that a record delivered in another's
       * place shows. */
      guint8 bulk[16384];
      gsize len = i >= spec->n_bulk && i < spec->n_bulk + spec->n_tiny ? 1 : sizeof bulk;

      for (gsize j = 0; j < len; j++)
        bulk[j] = (guint8)(i * 131 + j / 7);
      pair_write (&p, 1, bulk, len);
      pair_read (&p, 0, len);
    }

  pair_close (&p);
  SSL_CTX_free (ctx[0]);
  SSL_CTX_free (ctx[1]);
  EVP_PKEY_free (key);
  X509_free (cert);
  return t;
}

static const TraceSpec spec_tls12_aes256
    = { TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", FALSE, TRUE };
static const TraceSpec spec_tls12_chacha
    = { TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", FALSE, TRUE };
static const TraceSpec spec_tls12_aes128
    = { TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", FALSE, FALSE };
static const TraceSpec spec_tls12_cbc_sha
    = { TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA", .small_records = TRUE };
static const TraceSpec spec_tls12_renegotiation
    = { TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", .renegotiate = TRUE };
static const TraceSpec spec_tls12_cbc_sha384_mte
    = { TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA384", .small_records = TRUE, .no_etm = TRUE };
static const TraceSpec spec_tls13_aes256
    = { TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", FALSE, TRUE };
static const TraceSpec spec_tls13_chacha
    = { TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", FALSE, TRUE };
static const TraceSpec spec_tls13_aes128
    = { TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", FALSE, FALSE };
static const TraceSpec spec_tls13_key_update
    = { TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", TRUE, FALSE };
static const TraceSpec spec_tls13_hrr
    = { TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", FALSE, FALSE, TRUE };
static const TraceSpec spec_tls13_early
    = { TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", FALSE, FALSE, FALSE, TRUE };
/* A bulk download: 440 full records. */
static const TraceSpec spec_tls13_bulk
    = { TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", .n_bulk = 440 };
static const TraceSpec spec_tls12_chacha_bulk
    = { TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", .n_bulk = 440 };
/* 40 full records, a burst of 700 one-byte records, 60 full records. */
static const TraceSpec spec_tls13_burst
    = { TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", .n_bulk = 40, .n_tiny = 700, .n_bulk_after = 60 };
static const TraceSpec spec_tls12_chacha_burst
    = { TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", .n_bulk = 40, .n_tiny = 700,
        .n_bulk_after = 60 };

static void
test_openssl_trace (gconstpointer data)
{
  const TraceSpec *spec = data;
  g_autoptr (Trace) t = make_openssl_trace (spec);
  Recorder r;

  maybe_write_seed (t, g_test_get_path ());
  run_trace (t, FEED_WHOLE, G_MAXSIZE, &r);
  if (g_test_verbose ())
    g_printerr ("keylog:\n%s\nclient:\n%s\nserver:\n%s\n", t->keylog->str, r.log[0]->str,
                r.log[1]->str);

  g_assert_cmpuint (r.n_anomalies, ==, 0);
  g_assert_cmpuint (r.n_opaque, ==, 0);
  g_assert_cmpuint (r.app[0]->len, ==, t->app[0]->len);
  g_assert_cmpmem (r.app[0]->data, r.app[0]->len, t->app[0]->data, t->app[0]->len);
  g_assert_cmpmem (r.app[1]->data, r.app[1]->len, t->app[1]->data, t->app[1]->len);
  g_assert_cmpstr (r.sni, ==, "example.com");
  g_assert_cmpstr (r.alpn, ==, "http/1.1");
  if (!spec->early_data)
    {
      g_assert_cmpstr (r.cert_subject, ==, "CN=example.com,O=Tunnelscope Lab");
      g_assert_cmpstr (r.cert_sans, ==,
                       "DNS:example.com,DNS:www.example.com,IP:192.0.2.10,IP:2001:db8::10");
      g_assert_cmpint (r.cert_validity, ==, TS_TLS_CERT_VALID);
    }
  g_assert_cmpuint (r.n_alerts, ==, 2); /* both close_notify */

  g_assert_cmpint (r.hrr, ==, spec->hrr);
  if (spec->early_data)
    {
      /* Resumed: no certificate; the early data and EndOfEarlyData come first. */
      g_assert_true (g_str_has_prefix (r.handshakes->str,
                                       "C:client_hello S:server_hello S:encrypted_extensions* "
                                       "S:finished* C:end_of_early_data* C:finished* "));
      g_assert_nonnull (r.early_app);
      g_assert_cmpstr (r.early_app, ==, "GET /early HTTP/1.1\r\nHost: example.com\r\n\r\n");
    }
  else if (spec->hrr)
    {
      g_assert_true (g_str_has_prefix (r.handshakes->str,
                                       "C:client_hello S:server_hello C:client_hello "
                                       "S:server_hello S:encrypted_extensions* "
                                       "S:certificate* S:certificate_verify* S:finished* "
                                       "C:finished* S:new_session_ticket* "));
      g_assert_nonnull (strstr (r.log[1]->str, " shares=0017 ext=002b,0033 selected=0304 hrr"));
    }
  else if (spec->version == TLS1_3_VERSION)
    {
      g_assert_true (g_str_has_prefix (r.handshakes->str,
                                       "C:client_hello S:server_hello S:encrypted_extensions* "
                                       "S:certificate* S:certificate_verify* S:finished* "
                                       "C:finished* S:new_session_ticket* "));
      g_assert_cmpuint (r.n_key_updates, ==, spec->key_update ? 3 : 0);
    }
  else if (spec->renegotiate)
    {
      /* The second handshake is inside the first one's keys; each side
       * turns to the new keys with its change_cipher_spec. */
      g_assert_cmpstr (r.handshakes->str, ==,
                       "C:client_hello S:server_hello S:certificate S:server_key_exchange "
                       "S:server_hello_done C:client_key_exchange C:finished* "
                       "S:new_session_ticket S:finished* "
                       "C:client_hello* S:server_hello* S:certificate* S:server_key_exchange* "
                       "S:server_hello_done* C:client_key_exchange* C:finished* "
                       "S:new_session_ticket* S:finished* ");
    }
  else
    {
      g_assert_cmpstr (r.handshakes->str, ==,
                       "C:client_hello S:server_hello S:certificate S:server_key_exchange "
                       "S:server_hello_done C:client_key_exchange C:finished* "
                       "S:new_session_ticket S:finished* ");
    }
  recorder_clear (&r);

  /* Judged a year later, the same certificate has expired. */
  t->time_us += G_GINT64_CONSTANT (366) * 86400 * G_USEC_PER_SEC;
  run_trace (t, FEED_WHOLE, G_MAXSIZE, &r);
  g_assert_cmpint (r.cert_validity, ==, spec->early_data ? -1 : TS_TLS_CERT_EXPIRED);
  recorder_clear (&r);

  check_chunking (t);
  check_truncations (t, 2500);
}

/* ---- tshark as the referee ---- */

static void
put16 (GByteArray *a, guint v)
{
  guint8 b[2] = { (guint8)(v >> 8), (guint8)v };

  g_byte_array_append (a, b, 2);
}

static void
put32 (GByteArray *a, guint32 v)
{
  guint8 b[4] = { (guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v };

  g_byte_array_append (a, b, 4);
}

static void
put32le (GByteArray *a, guint32 v)
{
  guint8 b[4] = { (guint8)v, (guint8)(v >> 8), (guint8)(v >> 16), (guint8)(v >> 24) };

  g_byte_array_append (a, b, 4);
}

static guint16
inet_checksum (const guint8 *p, gsize n, guint32 sum)
{
  for (gsize i = 0; i + 1 < n; i += 2)
    sum += (guint32)(p[i] << 8 | p[i + 1]);
  if (n % 2)
    sum += (guint32)p[n - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16)~sum;
}

/* One Ethernet/IPv4/TCP packet into a classic pcap. */
static void
pcap_packet (GByteArray *out, guint *n_packets, gboolean from_client, guint32 seq, guint32 ack,
             guint8 flags, const guint8 *payload, gsize len)
{
  static const guint8 client_ip[4] = { 192, 0, 2, 1 }, server_ip[4] = { 192, 0, 2, 10 };
  g_autoptr (GByteArray) pkt = g_byte_array_new ();
  g_autoptr (GByteArray) pseudo = g_byte_array_new ();
  const guint8 *src = from_client ? client_ip : server_ip;
  const guint8 *dst = from_client ? server_ip : client_ip;
  guint tcp_off, ip_off, csum;

  /* Ethernet */
  g_byte_array_append (pkt, (const guint8 *)(from_client ? "\x02\0\0\0\0\x02" : "\x02\0\0\0\0\x01"),
                       6);
  g_byte_array_append (pkt, (const guint8 *)(from_client ? "\x02\0\0\0\0\x01" : "\x02\0\0\0\0\x02"),
                       6);
  put16 (pkt, 0x0800);
  /* IPv4 */
  ip_off = pkt->len;
  put16 (pkt, 0x4500);
  put16 (pkt, (guint)(20 + 20 + len));
  put16 (pkt, *n_packets & 0xffff);
  put16 (pkt, 0x4000);
  put16 (pkt, 0x4006);
  put16 (pkt, 0);
  g_byte_array_append (pkt, src, 4);
  g_byte_array_append (pkt, dst, 4);
  csum = inet_checksum (pkt->data + ip_off, 20, 0);
  pkt->data[ip_off + 10] = (guint8)(csum >> 8);
  pkt->data[ip_off + 11] = (guint8)csum;
  /* TCP */
  tcp_off = pkt->len;
  put16 (pkt, from_client ? 40000 : 4433);
  put16 (pkt, from_client ? 4433 : 40000);
  put32 (pkt, seq);
  put32 (pkt, ack);
  put16 (pkt, 0x5000 | flags);
  put16 (pkt, 65535);
  put32 (pkt, 0);
  g_byte_array_append (pkt, payload, (guint)len);
  g_byte_array_append (pseudo, src, 4);
  g_byte_array_append (pseudo, dst, 4);
  put16 (pseudo, 6);
  put16 (pseudo, (guint)(20 + len));
  g_byte_array_append (pseudo, pkt->data + tcp_off, pkt->len - tcp_off);
  csum = inet_checksum (pseudo->data, pseudo->len, 0);
  pkt->data[tcp_off + 16] = (guint8)(csum >> 8);
  pkt->data[tcp_off + 17] = (guint8)csum;

  put32le (out, 1780272000 + *n_packets / 1000);
  put32le (out, (*n_packets % 1000) * 1000);
  put32le (out, pkt->len);
  put32le (out, pkt->len);
  g_byte_array_append (out, pkt->data, pkt->len);
  (*n_packets)++;
}

static void
write_pcap (Trace *t, const char *path)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint32 seq[2] = { 1000, 5000 };
  guint n = 0;

  put32le (out, 0xa1b2c3d4);
  put32le (out, 0x00040002);
  put32le (out, 0);
  put32le (out, 0);
  put32le (out, 65535);
  put32le (out, 1); /* LINKTYPE_ETHERNET */

  pcap_packet (out, &n, TRUE, seq[0] - 1, 0, 0x02, NULL, 0);
  pcap_packet (out, &n, FALSE, seq[1] - 1, seq[0], 0x12, NULL, 0);
  pcap_packet (out, &n, TRUE, seq[0], seq[1], 0x10, NULL, 0);
  for (guint i = 0; i < t->segments->len; i++)
    {
      Segment *s = &g_array_index (t->segments, Segment, i);
      gsize len;
      const guint8 *data = g_bytes_get_data (s->bytes, &len);
      int d = s->dir;

      for (gsize off = 0; off < len; off += 1448)
        {
          gsize n_seg = MIN (1448, len - off);

          pcap_packet (out, &n, d == 0, seq[d], seq[1 - d], 0x18, data + off, n_seg);
          seq[d] += (guint32)n_seg;
        }
    }
  g_assert_true (g_file_set_contents (path, (const char *)out->data, out->len, NULL));
}

/* tshark, given the same key log, decrypts the same application bytes and
 * sees the same handshake messages. */
static void
test_tshark (gconstpointer data)
{
  const TraceSpec *spec = data;
  g_autofree char *tshark = g_find_program_in_path ("tshark");
  g_autoptr (Trace) t = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *pcap = NULL;
  g_autofree char *keys = NULL;
  g_autofree char *keylog_opt = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto (GStrv) lines = NULL;
  GByteArray *app[2];
  GString *types[2];
  int status;
  Recorder r;

  if (tshark == NULL)
    {
      g_test_skip ("tshark is not installed: no referee to cross-check decryption with");
      return;
    }

  t = make_openssl_trace (spec);
  dir = g_dir_make_tmp ("ts-tls-XXXXXX", &error);
  g_assert_no_error (error);
  pcap = g_build_filename (dir, "trace.pcap", NULL);
  keys = g_build_filename (dir, "keys.txt", NULL);
  write_pcap (t, pcap);
  g_assert_true (g_file_set_contents (keys, t->keylog->str, (gssize)t->keylog->len, NULL));
  keylog_opt = g_strdup_printf ("tls.keylog_file:%s", keys);

  {
    const char *argv[] = { tshark, "-n", "-r", pcap, "-o", keylog_opt, "-d", "tcp.port==4433,tls",
                           /* Plain "data", not HTTP guessed from the ALPN. */
                           "--disable-protocol", "http", "--disable-protocol", "http2", "-T",
                           "fields", "-E", "separator=/t", "-e", "tcp.srcport", "-e",
                           "tls.handshake.type", "-e", "data.data", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                                 &status, &error));
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("tshark failed: %s", err);
  }

  /* Per direction: the handshake types in order, and the decrypted bytes. */
  app[0] = g_byte_array_new ();
  app[1] = g_byte_array_new ();
  types[0] = g_string_new (NULL);
  types[1] = g_string_new (NULL);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], "\t", -1);
      int d;

      if (g_strv_length (f) < 3)
        continue;
      d = g_str_equal (f[0], "4433") ? 1 : 0;
      if (f[1][0] != '\0')
        g_string_append_printf (types[d], "%s,", f[1]);
      if (f[2][0] != '\0')
        {
          g_auto (GStrv) parts = g_strsplit (f[2], ",", -1);

          for (guint j = 0; parts[j] != NULL; j++)
            {
              gsize n;
              g_autofree guint8 *b = unhex (parts[j], &n);

              g_byte_array_append (app[d], b, (guint)n);
            }
        }
    }

  run_trace (t, FEED_WHOLE, G_MAXSIZE, &r);
  for (int d = 0; d < 2; d++)
    {
      /* Ours, in tshark's notation: numbers, comma-separated per packet. */
      g_autoptr (GString) ours = g_string_new (NULL);
      g_auto (GStrv) ev = g_strsplit (r.log[d]->str, "\n", -1);
      g_autofree char *theirs = NULL;
      g_autofree char *mine = NULL;

      for (guint i = 0; ev[i] != NULL; i++)
        if (g_str_has_prefix (ev[i], "handshake "))
          {
            /* "handshake OFFSETS FLAGS [early] NAME len=..." */
            g_auto (GStrv) tok = g_strsplit (ev[i], " ", 6);
            const char *name = g_str_equal (tok[3], "early") ? tok[4] : tok[3];

            for (guint ty = 0; ty < 256; ty++)
              {
                const char *tn = ts_tls_handshake_type_to_string (ty);

                if (tn != NULL && g_str_equal (name, tn))
                  g_string_append_printf (ours, "%u,", ty);
              }
          }
      theirs = g_strdelimit (g_strdup (types[d]->str), ",", ' ');
      mine = g_strdelimit (g_strdup (ours->str), ",", ' ');
      if (g_test_verbose ())
        g_printerr ("%s: tshark [%s] ours [%s], %u / %u app bytes\n",
                    ts_tls_direction_to_string (d), theirs, mine, app[d]->len, r.app[d]->len);
      g_assert_cmpstr (g_strstrip (theirs), ==, g_strstrip (mine));
      g_assert_cmpmem (app[d]->data, app[d]->len, r.app[d]->data, r.app[d]->len);
      g_assert_cmpmem (app[d]->data, app[d]->len, t->app[d]->data, t->app[d]->len);
    }
  g_string_free (types[0], TRUE);
  g_string_free (types[1], TRUE);
  g_byte_array_unref (app[0]);
  g_byte_array_unref (app[1]);
  recorder_clear (&r);

  g_unlink (pcap);
  g_unlink (keys);
  g_rmdir (dir);
}

/* ---- the key log ---- */

static void
test_keylog (void)
{
  g_autoptr (TsTlsKeylog) k = ts_tls_keylog_new ();
  const char *text
      = "# comment\n"
        "\n"
        "CLIENT_RANDOM 0101010101010101010101010101010101010101010101010101010101010101 "
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c"
        "2d2e2f\n"
        "SERVER_TRAFFIC_SECRET_0 0101010101010101010101010101010101010101010101010101010101010101 "
        "AABBCCDDEEFF00112233445566778899aabbccddeeff00112233445566778899\r\n"
        "BOGUS_LABEL 0101010101010101010101010101010101010101010101010101010101010101 00\n"
        "CLIENT_RANDOM 01 00\n"
        "CLIENT_RANDOM 0101010101010101010101010101010101010101010101010101010101010101 0g\n"
        "EXPORTER_SECRET 0202020202020202020202020202020202020202020202020202020202020202 abcd";
  guint8 cr[32];
  const guint8 *secret;
  gsize len;

  /* Nothing, with no buffer (what a zero-length copy gives): nothing
   * added, and no arithmetic on NULL (UBSan, found by fuzz-tls). */
  g_assert_cmpuint (ts_tls_keylog_feed (k, NULL, 0), ==, 0);
  /* Fed in 7-byte pieces: lines cross the calls. */
  for (gsize i = 0; i < strlen (text); i += 7)
    ts_tls_keylog_feed (k, text + i, MIN (7, strlen (text) - i));
  g_assert_cmpuint (ts_tls_keylog_get_n_secrets (k), ==, 2);
  g_assert_cmpuint (ts_tls_keylog_end (k), ==, 1);
  g_assert_cmpuint (ts_tls_keylog_get_n_secrets (k), ==, 3);
  g_assert_cmpuint (ts_tls_keylog_get_n_malformed (k), ==, 3);
  g_assert_cmpuint (ts_tls_keylog_get_generation (k), ==, 3);

  memset (cr, 1, sizeof cr);
  g_assert_true (ts_tls_keylog_lookup (k, cr, TS_TLS_SECRET_CLIENT_RANDOM, &secret, &len));
  g_assert_cmpuint (len, ==, 48);
  g_assert_cmpuint (secret[47], ==, 0x2f);
  g_assert_true (ts_tls_keylog_lookup (k, cr, TS_TLS_SECRET_SERVER_TRAFFIC_0, &secret, &len));
  g_assert_cmpuint (len, ==, 32);
  g_assert_cmpuint (secret[0], ==, 0xaa);
  g_assert_false (ts_tls_keylog_lookup (k, cr, TS_TLS_SECRET_CLIENT_TRAFFIC_0, &secret, &len));

  /* The same lines again add nothing. */
  g_assert_cmpuint (ts_tls_keylog_feed (k, text, strlen (text)), ==, 0);
  g_assert_cmpuint (ts_tls_keylog_end (k), ==, 0);
  g_assert_cmpuint (ts_tls_keylog_get_generation (k), ==, 3);

  /* A line over the cap is dropped whole. */
  {
    g_autofree char *huge = g_strnfill (TS_TLS_KEYLOG_LINE_CAP * 3, 'A');

    for (gsize i = 0; i < strlen (huge); i += 100)
      ts_tls_keylog_feed (k, huge + i, MIN (100, strlen (huge) - i));
    ts_tls_keylog_feed (k, "\n", 1);
    g_assert_cmpuint (ts_tls_keylog_get_n_malformed (k), ==, 7);
  }
}

/* A key log that arrives after the records: held, then decrypted; and with
 * a cap of 0, reported at once as opaque. */
static void
test_pending_cap (void)
{
  g_autoptr (Trace) t = make_rfc8448_trace ();
  g_autoptr (TsTlsKeylog) keylog = ts_tls_keylog_new ();
  g_autoptr (TsTlsSession) session = NULL;
  Recorder r;

  recorder_init (&r);
  session = ts_tls_session_new (keylog, on_event, &r);
  ts_tls_session_set_pending_cap (session, 0);
  for (guint i = 0; i < t->segments->len; i++)
    {
      Segment *seg = &g_array_index (t->segments, Segment, i);

      ts_tls_session_feed (session, seg->dir, g_bytes_get_data (seg->bytes, NULL),
                           g_bytes_get_size (seg->bytes), t->time_us);
    }
  g_assert_cmpuint (r.n_opaque, ==, 7);
  /* Keys now: too late for what was reported. */
  ts_tls_keylog_feed (keylog, t->keylog->str, t->keylog->len);
  g_assert_false (ts_tls_session_poll (session, t->time_us));
  ts_tls_session_finish (session);
  g_assert_cmpuint (r.n_opaque, ==, 7);
  recorder_clear (&r);
}

/* A capture that began after the handshake (or lost the ClientHello): no
 * client random is known, so the missing keys are said to be the
 * handshake's absence, not a secret for a client random of zeros. */
typedef struct
{
  TsTlsDirection dir;
  const char *hex;
} Record;

static void
test_no_handshake (void)
{
  const Record mid_stream[] = {
    { TS_TLS_DIR_CLIENT, rfc8448_client_app_record },
    { TS_TLS_DIR_SERVER, rfc8448_server_app_record },
    { TS_TLS_DIR_CLIENT, rfc8448_client_close_record },
    { TS_TLS_DIR_SERVER, rfc8448_server_close_record },
    { 0, NULL },
  };
  const Record no_client_hello[] = {
    { TS_TLS_DIR_SERVER, rfc8448_server_hello_record },
    { TS_TLS_DIR_SERVER, rfc8448_server_flight_record },
    { TS_TLS_DIR_CLIENT, rfc8448_client_finished_record },
    { TS_TLS_DIR_CLIENT, rfc8448_client_app_record },
    { 0, NULL },
  };
  const struct
  {
    const Record *records;
    const char *says;
  } cases[] = {
    { mid_stream, "missing_keys: the TLS handshake is not in the capture (it began before the "
                  "capture did), so these records cannot be decrypted\n" },
    { no_client_hello,
      "missing_keys: the ClientHello is not in the capture, so its client random, which finds "
      "the secrets in a key log, is not known: these records cannot be decrypted\n" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (Trace) full = make_rfc8448_trace ();
      g_autoptr (Trace) t = trace_new ();
      Recorder r;
      guint n_said = 0;

      /* The secrets are there: only the random to find them by is not. */
      g_string_assign (t->keylog, full->keylog->str);
      for (const Record *rec = cases[i].records; rec->hex != NULL; rec++)
        trace_add_hex (t, rec->dir, rec->hex);
      run_trace (t, FEED_WHOLE, G_MAXSIZE, &r);
      g_assert_cmpuint (r.n_decrypted_records, ==, 0);
      g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_MISSING_KEYS], >=, 1);
      for (int dir = 0; dir < 2; dir++)
        {
          const char *at = r.log[dir]->str;

          g_test_message ("%s", at);
          g_assert_null (strstr (at, "for client random"));
          while ((at = strstr (at, "missing_keys: ")) != NULL)
            {
              g_assert_true (g_str_has_prefix (at, cases[i].says));
              n_said++;
              at++;
            }
        }
      g_assert_cmpuint (n_said, ==, r.n_anomaly_kind[TS_TLS_ANOMALY_MISSING_KEYS]);
      recorder_clear (&r);
    }
}

/* Held records wait at most TS_TLS_PENDING_WINDOW_US of capture time. */
static void
test_pending_window (void)
{
  g_autoptr (Trace) t = make_rfc8448_trace ();
  g_autoptr (TsTlsKeylog) keylog = ts_tls_keylog_new ();
  g_autoptr (TsTlsSession) session = NULL;
  gint64 t0 = t->time_us;
  Recorder r;
  /* Secrets of some other session only. */
  static const char other[]
      = "CLIENT_RANDOM 0101010101010101010101010101010101010101010101010101010101010101 "
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbcc"
        "ddeeff\n";

  recorder_init (&r);
  ts_tls_keylog_feed (keylog, other, strlen (other));
  g_assert_cmpuint (ts_tls_keylog_get_n_secrets (keylog), ==, 1);
  session = ts_tls_session_new (keylog, on_event, &r);
  for (guint i = 0; i < 3; i++)
    {
      Segment *seg = &g_array_index (t->segments, Segment, i);

      ts_tls_session_feed (session, seg->dir, g_bytes_get_data (seg->bytes, NULL),
                           g_bytes_get_size (seg->bytes), t0);
    }
  /* The server's flight waits. */
  g_assert_cmpuint (r.n_opaque, ==, 0);
  g_assert_false (ts_tls_session_poll (session, t0 + TS_TLS_PENDING_WINDOW_US));
  g_assert_cmpuint (r.n_opaque, ==, 0);
  /* Past the window, it is given up even without new bytes. */
  g_assert_true (ts_tls_session_poll (session, t0 + TS_TLS_PENDING_WINDOW_US + 1));
  g_assert_cmpuint (r.n_opaque, ==, 1);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_MISSING_KEYS], ==, 1);
  ts_tls_session_finish (session);
  recorder_clear (&r);
}

/* Malformed input: anomalies, never a crash. */
static void
test_malformed (void)
{
  static const struct
  {
    const char *hex;
    TsTlsAnomaly expect;
  } cases[] = {
    { "474554202f20485454502f312e310d0a", TS_TLS_ANOMALY_NOT_TLS }, /* "GET / HTTP/1.1" */
    { "16030100050100000100"
      "ff0300000100",
      TS_TLS_ANOMALY_MALFORMED_RECORD },
    { "1603014801", TS_TLS_ANOMALY_NOT_TLS },           /* length over 2^14+2048 */
    { "160301000401000005", TS_TLS_ANOMALY_TRUNCATED }, /* handshake cut by finish */
    { "1603010008010000040303aaaa", TS_TLS_ANOMALY_MALFORMED_MESSAGE }, /* ClientHello too short */
    { "15030100030102ff", TS_TLS_ANOMALY_MALFORMED_MESSAGE },           /* alert of 3 bytes */
    { "1603010004"
      "0fffffff",
      TS_TLS_ANOMALY_TOO_LARGE },                           /* 16 MiB message */
    { "14030300020101", TS_TLS_ANOMALY_MALFORMED_MESSAGE }, /* CCS of 2 bytes */
    { "1603010000", TS_TLS_ANOMALY_MALFORMED_MESSAGE },     /* empty handshake */
  };

  /* The RFC's ClientHello fed as if the server had sent it. */
  {
    g_autoptr (Trace) t = trace_new ();
    Recorder r;

    trace_add_hex (t, TS_TLS_DIR_SERVER, rfc8448_client_hello_record);
    run_trace (t, FEED_WHOLE, G_MAXSIZE, &r);
    g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_UNEXPECTED], ==, 1);
    recorder_clear (&r);
  }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (Trace) t = trace_new ();
      Recorder r;

      trace_add_hex (t, TS_TLS_DIR_CLIENT, cases[i].hex);
      run_trace (t, FEED_WHOLE, G_MAXSIZE, &r);
      if (r.n_anomaly_kind[cases[i].expect] == 0)
        g_error ("case %" G_GSIZE_FORMAT ": no %s anomaly in\n%s", i,
                 ts_tls_anomaly_to_string (cases[i].expect), r.log[0]->str);
      recorder_clear (&r);
      check_chunking (t);
    }
}

/* A gap in one direction: reported, the stream resyncs on the next header. */
static void
test_gap (void)
{
  g_autoptr (Trace) t = make_rfc8448_trace ();
  g_autoptr (TsTlsKeylog) keylog = ts_tls_keylog_new ();
  g_autoptr (TsTlsSession) session = NULL;
  Recorder r;

  recorder_init (&r);
  ts_tls_keylog_feed (keylog, t->keylog->str, t->keylog->len);
  session = ts_tls_session_new (keylog, on_event, &r);
  for (guint i = 0; i < t->segments->len; i++)
    {
      Segment *seg = &g_array_index (t->segments, Segment, i);
      gsize len;
      const guint8 *data = g_bytes_get_data (seg->bytes, &len);

      if (i == 2)
        {
          /* Lose the middle of the server's encrypted flight. */
          ts_tls_session_feed (session, seg->dir, data, 100, t->time_us);
          ts_tls_session_gap (session, seg->dir, 300);
          ts_tls_session_feed (session, seg->dir, data + 400, len - 400, t->time_us);
          continue;
        }
      ts_tls_session_feed (session, seg->dir, data, len, t->time_us);
    }
  ts_tls_session_finish (session);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_GAP], ==, 1);
  /* The server's later records are framed again, but not decrypted. */
  g_assert_nonnull (strstr (r.log[1]->str, "record 774-1001 E- type=23"));
  /* The client side is untouched. */
  g_assert_cmpuint (r.app[0]->len, ==, 50);
  recorder_clear (&r);
}

/* Runs @t, fed in chunks of at most @chunk bytes, but the @n_lost byte
 * ranges [@lost[2i], @lost[2i + 1]) of @gap_dir (in order, apart, not
 * empty) are lost: the session is told of each with ts_tls_session_gap ()
 * where it starts. */
static void
run_with_gaps (Trace *t, TsTlsDirection gap_dir, const guint64 *lost, guint n_lost, gsize chunk,
               Recorder *r)
{
  g_autoptr (TsTlsKeylog) keylog = ts_tls_keylog_new ();
  g_autoptr (TsTlsSession) session = NULL;
  guint64 pos[2] = { 0, 0 };
  guint cur = 0; /* the range lost next, or being lost */

  recorder_init (r);
  ts_tls_keylog_feed (keylog, t->keylog->str, t->keylog->len);
  session = ts_tls_session_new (keylog, on_event, r);
  for (guint i = 0; i < t->segments->len; i++)
    {
      Segment *seg = &g_array_index (t->segments, Segment, i);
      gsize len;
      const guint8 *data = g_bytes_get_data (seg->bytes, &len);

      for (gsize j = 0; j < len;)
        {
          guint64 at = pos[seg->dir];
          gsize n = MIN (chunk, len - j);

          if (seg->dir == gap_dir && cur < n_lost && at + n > lost[2 * cur])
            {
              if (at < lost[2 * cur])
                n = (gsize)(lost[2 * cur] - at);
              else
                {
                  /* Inside the range: skip, and say so once. */
                  if (at == lost[2 * cur])
                    ts_tls_session_gap (session, gap_dir, lost[2 * cur + 1] - lost[2 * cur]);
                  n = (gsize)MIN (n, lost[2 * cur + 1] - at);
                  j += n;
                  pos[seg->dir] += n;
                  if (pos[seg->dir] == lost[2 * cur + 1])
                    cur++;
                  continue;
                }
            }
          ts_tls_session_feed (session, seg->dir, data + j, n, t->time_us);
          j += n;
          pos[seg->dir] += n;
        }
    }
  ts_tls_session_finish (session);
}

/* Runs @t, but bytes [@gap_start, @gap_start + @gap_len) of @gap_dir are
 * lost: the session is told with ts_tls_session_gap (). */
static void
run_with_gap (Trace *t, TsTlsDirection gap_dir, guint64 gap_start, guint64 gap_len,
              gboolean bytewise, Recorder *r)
{
  guint64 lost[2] = { gap_start, gap_start + gap_len };

  run_with_gaps (t, gap_dir, lost, 1, bytewise ? 1 : G_MAXSIZE, r);
}

/* Bytes lost in the middle of the application data: the stream resyncs on
 * a later record header and decryption resumes at the right sequence
 * number; fed one byte at a time, the same events. */
static void
test_gap_recovery (gconstpointer data)
{
  const TraceSpec *spec = data;
  g_autoptr (Trace) t = make_openssl_trace (spec);
  Recorder whole, r, rb;
  guint64 starts[8], ends[8];
  guint n = 0;
  g_auto (GStrv) lines = NULL;

  /* The one-byte records of the server, from a clean run. */
  run_trace (t, FEED_WHOLE, G_MAXSIZE, &whole);
  lines = g_strsplit (whole.log[1]->str, "\n", -1);
  for (guint i = 0; lines[i] != NULL && n < G_N_ELEMENTS (starts); i++)
    {
      guint64 a, b;

      if (sscanf (lines[i],
                  "application_data %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " ED len=1 ", &a, &b)
          == 2)
        {
          starts[n] = a;
          ends[n++] = b;
        }
    }
  g_assert_cmpuint (n, >=, 6);

  /* Lose from inside record 2 to inside record 4: records 2, 3 and 4 are
   * gone, the header of 5 is found by scanning. */
  for (int bytewise = 0; bytewise < 2; bytewise++)
    {
      run_with_gap (t, TS_TLS_DIR_SERVER, starts[2] + 2, ends[4] - 3 - (starts[2] + 2), bytewise,
                    bytewise ? &rb : &r);
    }
  if (g_test_verbose ())
    g_printerr ("%s\n", r.log[1]->str);
  g_assert_cmpstr (r.log[1]->str, ==, rb.log[1]->str);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_GAP], ==, 1);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_DECRYPT_FAILED], ==, 0);
  /* Three one-byte records are missing, the rest is there, in order. */
  g_assert_cmpuint (r.app[1]->len, ==, whole.app[1]->len - 3);
  g_assert_cmpmem (r.app[1]->data + r.app[1]->len - 5, 5,
                   whole.app[1]->data + whole.app[1]->len - 5, 5);
  g_assert_cmpmem (r.app[0]->data, r.app[0]->len, whole.app[0]->data, whole.app[0]->len);
  g_assert_nonnull (strstr (r.log[1]->str, "record 0-"));
  recorder_clear (&r);
  recorder_clear (&rb);
  recorder_clear (&whole);
}

/* A server KeyUpdate lost in a gap: the next record opens with the next
 * generation of the traffic secret, and nothing else is missing. */
static void
test_gap_key_update (void)
{
  g_autoptr (Trace) t = make_openssl_trace (&spec_tls13_key_update);
  Recorder whole, r;
  g_auto (GStrv) lines = NULL;
  guint64 a = 0, b = 0;

  run_trace (t, FEED_WHOLE, G_MAXSIZE, &whole);
  lines = g_strsplit (whole.log[1]->str, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint64 x, y;

      if (sscanf (lines[i], "handshake %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT " ED key_update",
                  &x, &y)
          == 2)
        {
          a = x;
          b = y;
        }
    }
  g_assert_cmpuint (b, >, a);
  run_with_gap (t, TS_TLS_DIR_SERVER, a, b - a, FALSE, &r);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_GAP], ==, 1);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_DECRYPT_FAILED], ==, 0);
  g_assert_cmpuint (r.n_key_updates, ==, whole.n_key_updates - 1);
  g_assert_cmpmem (r.app[1]->data, r.app[1]->len, whole.app[1]->data, whole.app[1]->len);
  g_assert_cmpuint (r.n_alerts, ==, 2);
  recorder_clear (&r);
  recorder_clear (&whole);
}

/* The server records of a clean run whose plaintext is @len bytes, as
 * stream ranges [start, end) appended to @out (pairs). */
static void
find_records (Recorder *whole, gsize len, GArray *out)
{
  g_auto (GStrv) lines = g_strsplit (whole->log[1]->str, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint64 a, b;
      gsize n;

      if (sscanf (lines[i],
                  "application_data %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
                  " ED len=%" G_GSIZE_FORMAT,
                  &a, &b, &n)
              == 3
          && n == len)
        {
          g_array_append_val (out, a);
          g_array_append_val (out, b);
        }
    }
}

#define REC_START(a, i) g_array_index ((a), guint64, 2 * (i))
#define REC_END(a, i) g_array_index ((a), guint64, 2 * (i) + 1)

/* A capture that lost half its packets: 300 full records of a bulk
 * download lost in 300 gaps in a row, each record's first 1448 bytes
 * received and the rest lost, so none completes. Each gap alone allows
 * hundreds of lost records (one per 21 bytes); the sizes of the records
 * seen point to the right one, where decryption resumes. Chunked alike. */
static void
test_gap_many (gconstpointer data)
{
  const TraceSpec *spec = data;
  g_autoptr (Trace) t = make_openssl_trace (spec);
  g_autoptr (GArray) big = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (GArray) lost = g_array_new (FALSE, FALSE, sizeof (guint64));
  const guint first = 100, n_gone = 300;
  Recorder whole, r, rc;
  gsize before;

  run_trace (t, FEED_WHOLE, G_MAXSIZE, &whole);
  find_records (&whole, 16384, big);
  g_assert_cmpuint (big->len / 2, ==, spec->n_bulk);
  for (guint i = first; i < first + n_gone; i++)
    {
      guint64 a = REC_START (big, i) + 1448, b = REC_END (big, i);

      g_array_append_val (lost, a);
      g_array_append_val (lost, b);
    }
  run_with_gaps (t, TS_TLS_DIR_SERVER, (guint64 *)lost->data, n_gone, G_MAXSIZE, &r);
  run_with_gaps (t, TS_TLS_DIR_SERVER, (guint64 *)lost->data, n_gone, 997, &rc);
  if (g_test_verbose ())
    g_printerr ("%s\n", r.log[1]->str);
  g_assert_cmpstr (r.log[1]->str, ==, rc.log[1]->str);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_GAP], ==, n_gone);
  g_assert_cmpuint (r.n_anomalies, ==, n_gone);
  g_assert_cmpuint (r.n_opaque, ==, 0);
  g_assert_cmpuint (r.n_decrypted_records, ==, whole.n_decrypted_records - n_gone);
  /* Everything but the lost records' plaintext, in order. */
  before = whole.app[1]->len - (spec->n_bulk - first) * 16384;
  g_assert_cmpuint (r.app[1]->len, ==, whole.app[1]->len - n_gone * 16384);
  g_assert_cmpmem (r.app[1]->data, before, whole.app[1]->data, before);
  g_assert_cmpmem (r.app[1]->data + before, r.app[1]->len - before,
                   whole.app[1]->data + before + n_gone * 16384, r.app[1]->len - before);
  recorder_clear (&r);
  recorder_clear (&rc);
  recorder_clear (&whole);
}

/* More records lost than one gap run can reach: a burst of 600 one-byte
 * records lost among full ones, where the records' mean size points to a
 * handful. The records after it are opaque with one DECRYPT_FAILED for the
 * run, not one each; the later gaps of a download (a record's tail lost
 * every eight) search on from where it stopped, decryption resumes, once
 * said, and the rest is decrypted. Fed byte by byte alike. */
static void
test_gap_beyond_reach (gconstpointer data)
{
  const TraceSpec *spec = data;
  g_autoptr (Trace) t = make_openssl_trace (spec);
  g_autoptr (GArray) big = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (GArray) tiny = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (GArray) lost = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint n_big, last = 0;
  Recorder whole, r, rb;
  guint64 a, b;
  gsize tail;

  run_trace (t, FEED_WHOLE, G_MAXSIZE, &whole);
  find_records (&whole, 16384, big);
  find_records (&whole, 1, tiny);
  n_big = big->len / 2;
  g_assert_cmpuint (n_big, ==, spec->n_bulk + spec->n_bulk_after);
  g_assert_cmpuint (tiny->len / 2, ==, spec->n_tiny);

  /* From inside full record 38 to the header of one-byte record 600. */
  a = REC_START (big, spec->n_bulk - 2) + 1000;
  b = REC_START (tiny, 600);
  g_array_append_val (lost, a);
  g_array_append_val (lost, b);
  for (guint i = spec->n_bulk + 2; i + 12 < n_big; i += 8)
    {
      a = REC_START (big, i) + 1000;
      b = REC_END (big, i);
      g_array_append_val (lost, a);
      g_array_append_val (lost, b);
      last = i;
    }
  run_with_gaps (t, TS_TLS_DIR_SERVER, (guint64 *)lost->data, lost->len / 2, G_MAXSIZE, &r);
  run_with_gaps (t, TS_TLS_DIR_SERVER, (guint64 *)lost->data, lost->len / 2, 1, &rb);
  if (g_test_verbose ())
    g_printerr ("%s\n", r.log[1]->str);
  g_assert_cmpstr (r.log[1]->str, ==, rb.log[1]->str);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_DECRYPT_FAILED], ==, 1);
  g_assert_cmpuint (r.n_anomaly_kind[TS_TLS_ANOMALY_GAP], ==, lost->len / 2 + 1);
  g_assert_cmpuint (r.n_anomalies, ==, lost->len / 2 + 2);
  g_assert_nonnull (strstr (r.log[1]->str, "gap: decryption resumes: this record is number "));
  /* At least the 100 one-byte records after the first gap were opaque. */
  g_assert_cmpuint (r.n_opaque, >=, 100);
  /* The full records after the last gap are all there. */
  tail = (n_big - last - 1) * 16384;
  g_assert_cmpuint (r.app[1]->len, >=, tail);
  g_assert_cmpmem (r.app[1]->data + r.app[1]->len - tail, tail,
                   whole.app[1]->data + whole.app[1]->len - tail, tail);
  recorder_clear (&r);
  recorder_clear (&rb);
  recorder_clear (&whole);
}

static void
test_names (void)
{
  g_assert_cmpstr (ts_tls_handshake_type_to_string (TS_TLS_HS_CLIENT_HELLO), ==, "client_hello");
  g_assert_cmpstr (ts_tls_cipher_suite_to_string (0x1302), ==, "TLS_AES_256_GCM_SHA384");
  g_assert_cmpstr (ts_tls_version_to_string (0x0304), ==, "TLS 1.3");
  g_assert_cmpstr (ts_tls_version_to_string (0x7a7a), ==, "GREASE");
  g_assert_cmpstr (ts_tls_alert_description_to_string (0), ==, "close_notify");
  g_assert_cmpstr (ts_tls_named_group_to_string (0x1d), ==, "x25519");
  g_assert_cmpstr (ts_tls_anomaly_to_string (TS_TLS_ANOMALY_DECRYPT_FAILED), ==, "decrypt_failed");
  g_assert_cmpstr (ts_tls_event_kind_to_string (TS_TLS_EVENT_OPAQUE), ==, "opaque");
  g_assert_null (ts_tls_handshake_type_to_string (77));
  g_assert_true (ts_tls_session_looks_like_tls ((const guint8 *)"\x16\x03\x01\x00\xc4\x01", 6));
  g_assert_false (ts_tls_session_looks_like_tls ((const guint8 *)"GET / HTTP/1.1", 14));
}

/* ---- records opened where they lie, in pieces ---- */

/* Seals @plain (@len bytes) as record @seq of @suite under @key and @iv
 * (RFC 8446 §5.2; RFC 5246 §6.2.3.3 with RFC 5288 §3 / RFC 7905 §2). */
static GByteArray *
seal_record (const TsTlsSuiteInfo *info, const guint8 *key, const guint8 *iv, guint64 seq,
             const guint8 *plain, gsize len)
{
  const EVP_CIPHER *cipher = info->aead == TS_TLS_AEAD_AES_128_GCM   ? EVP_aes_128_gcm ()
                             : info->aead == TS_TLS_AEAD_AES_256_GCM ? EVP_aes_256_gcm ()
                                                                     : EVP_chacha20_poly1305 ();
  gboolean explicit = !info->tls13 && info->aead != TS_TLS_AEAD_CHACHA20_POLY1305;
  gsize inner = len + (info->tls13 ? 1 : 0);
  gsize frag_len = (explicit ? 8 : 0) + inner + 16;
  GByteArray *rec = g_byte_array_sized_new ((guint)(5 + frag_len));
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  guint8 nonce[12], aad[13], header[5] = { 23, 3, 3, (guint8)(frag_len >> 8), (guint8)frag_len };
  g_autofree guint8 *in = g_malloc (inner + 1), *out = g_malloc (inner + 16);
  int n = 0, m = 0;

  memcpy (in, plain, len);
  in[len] = 23; /* TLS 1.3: the inner content type */
  if (explicit)
    {
      memcpy (nonce, iv, 4);
      for (int i = 0; i < 8; i++)
        nonce[4 + i] = (guint8)(seq >> (56 - 8 * i)) ^ 0x5a;
    }
  else
    {
      memcpy (nonce, iv, 12);
      for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (guint8)(seq >> (8 * i));
    }
  if (info->tls13)
    memcpy (aad, header, 5);
  else
    {
      for (int i = 0; i < 8; i++)
        aad[i] = (guint8)(seq >> (56 - 8 * i));
      memcpy (aad + 8, header, 3);
      aad[11] = (guint8)(len >> 8);
      aad[12] = (guint8)len;
    }
  g_assert_cmpint (EVP_EncryptInit_ex (ctx, cipher, NULL, key, nonce), ==, 1);
  g_assert_cmpint (EVP_EncryptUpdate (ctx, NULL, &n, aad, info->tls13 ? 5 : 13), ==, 1);
  g_assert_cmpint (EVP_EncryptUpdate (ctx, out, &n, in, (int)inner), ==, 1);
  g_assert_cmpint (EVP_EncryptFinal_ex (ctx, out + n, &m), ==, 1);
  g_assert_cmpint (EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + inner), ==, 1);
  EVP_CIPHER_CTX_free (ctx);
  g_byte_array_append (rec, header, 5);
  if (explicit)
    g_byte_array_append (rec, nonce + 4, 8);
  g_byte_array_append (rec, out, (guint)(inner + 16));
  return rec;
}

/* Opens @rec whole and cut into pieces at @cuts (@n_cuts offsets, rising). */
static gssize
open_cut (TsTlsCipher *c, guint64 seq, const GByteArray *rec, const gsize *cuts, guint n_cuts,
          guint8 *out)
{
  TsTlsPiece pieces[8];
  gsize at = 0;
  guint n = 0;

  for (guint i = 0; i <= n_cuts; i++)
    {
      gsize end = i < n_cuts ? cuts[i] : rec->len;

      pieces[n].data = rec->data + at;
      pieces[n++].len = end - at;
      at = end;
    }
  return _ts_tls_cipher_open_pieces (c, seq, pieces, n, rec->len, out);
}

static void
test_pieces (void)
{
  const guint16 suites[] = { 0x1301, 0x1303, 0xc02c, 0xcca9 };
  guint8 key[32], iv[12], plain[3000];

  for (gsize i = 0; i < sizeof plain; i++)
    plain[i] = (guint8)(i * 7 + 1);
  for (gsize i = 0; i < sizeof key; i++)
    key[i] = (guint8)(0xa0 + i);
  for (gsize i = 0; i < sizeof iv; i++)
    iv[i] = (guint8)(0x10 + i);
  for (guint k = 0; k < G_N_ELEMENTS (suites); k++)
    {
      const TsTlsSuiteInfo *info = _ts_tls_suite_lookup (suites[k]);
      TsTlsCipher c = { 0 };
      guint64 seq = 7 + k;
      g_autoptr (GByteArray) rec = NULL;
      g_autofree guint8 *whole = g_malloc (sizeof plain + 64), *cut = g_malloc (sizeof plain + 64);
      gssize n;

      g_assert_nonnull (info);
      g_assert_true (_ts_tls_cipher_set_key (&c, info, info->tls13, key, iv));
      g_assert_true (_ts_tls_cipher_opens_pieces (&c));
      rec = seal_record (info, key, iv, seq, plain, sizeof plain);
      n = _ts_tls_cipher_open (&c, seq, rec->data, rec->data + 5, rec->len - 5, whole);
      g_assert_cmpint (n, ==, (gssize)sizeof plain + (info->tls13 ? 1 : 0));
      g_assert_cmpmem (whole, sizeof plain, plain, sizeof plain);
      /* One cut anywhere (in the header, the explicit nonce, the
       * ciphertext, the tag), and three: the same plaintext. */
      for (gsize a = 1; a < rec->len; a += (a < 40 || a > rec->len - 40) ? 1 : 97)
        {
          gsize three[3] = { a / 3, a, a + (rec->len - a) / 2 };

          memset (cut, 0, sizeof plain + 64);
          g_assert_cmpint (open_cut (&c, seq, rec, &a, 1, cut), ==, n);
          g_assert_cmpmem (cut, (gsize)n, whole, (gsize)n);
          if (three[0] > 0 && three[2] > a)
            {
              g_assert_cmpint (open_cut (&c, seq, rec, three, 3, cut), ==, n);
              g_assert_cmpmem (cut, (gsize)n, whole, (gsize)n);
            }
        }
      /* A wrong sequence number, and a changed byte in each part covered
       * (the header's type and version, the explicit nonce or first
       * ciphertext byte, the middle, the tag): refused in pieces as whole. */
      g_assert_cmpint (open_cut (&c, seq + 1, rec, (gsize[]){ 100 }, 1, cut), ==, -1);
      for (guint j = 0; j < 5; j++)
        {
          gsize at = (gsize[]){ 0, 2, 6, rec->len / 2, rec->len - 1 }[j];

          rec->data[at] ^= 0x01;
          g_assert_cmpint (
              _ts_tls_cipher_open (&c, seq, rec->data, rec->data + 5, rec->len - 5, whole), ==, -1);
          g_assert_cmpint (open_cut (&c, seq, rec, (gsize[]){ rec->len / 2 }, 1, cut), ==, -1);
          rec->data[at] ^= 0x01;
        }
      _ts_tls_cipher_clear (&c);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ts/trace/tls/basic/names", test_names);
  g_test_add_func ("/ts/trace/tls/basic/keylog", test_keylog);
  g_test_add_func ("/ts/trace/tls/basic/pieces", test_pieces);
  g_test_add_func ("/ts/trace/tls/rfc8448", test_rfc8448);
  g_test_add_func ("/ts/trace/tls/rfc8448/chunking", test_rfc8448_chunking);
  g_test_add_func ("/ts/trace/tls/rfc8448/truncated", test_rfc8448_truncated);
  g_test_add_func ("/ts/trace/tls/rfc8448/no-keys", test_rfc8448_no_keys);
  g_test_add_func ("/ts/trace/tls/rfc8448/no-handshake", test_no_handshake);
  g_test_add_func ("/ts/trace/tls/basic/pending-cap", test_pending_cap);
  g_test_add_func ("/ts/trace/tls/basic/pending-window", test_pending_window);
  g_test_add_func ("/ts/trace/tls/basic/malformed", test_malformed);
  g_test_add_func ("/ts/trace/tls/basic/gap", test_gap);
  g_test_add_data_func ("/ts/trace/tls/gap-recovery/tls12-aes256-gcm", &spec_tls12_aes256,
                        test_gap_recovery);
  g_test_add_data_func ("/ts/trace/tls/gap-recovery/tls12-chacha20", &spec_tls12_chacha,
                        test_gap_recovery);
  g_test_add_data_func ("/ts/trace/tls/gap-recovery/tls12-aes128-cbc-sha-etm", &spec_tls12_cbc_sha,
                        test_gap_recovery);
  g_test_add_data_func ("/ts/trace/tls/gap-recovery/tls13-aes256-gcm", &spec_tls13_aes256,
                        test_gap_recovery);
  g_test_add_func ("/ts/trace/tls/gap-recovery/tls13-key-update-lost", test_gap_key_update);
  g_test_add_data_func ("/ts/trace/tls/gap-recovery/many-gaps-tls13-aes128-gcm", &spec_tls13_bulk,
                        test_gap_many);
  g_test_add_data_func ("/ts/trace/tls/gap-recovery/many-gaps-tls12-chacha20",
                        &spec_tls12_chacha_bulk, test_gap_many);
  g_test_add_data_func ("/ts/trace/tls/gap-recovery/beyond-reach-tls13-aes128-gcm",
                        &spec_tls13_burst, test_gap_beyond_reach);
  g_test_add_data_func ("/ts/trace/tls/gap-recovery/beyond-reach-tls12-chacha20",
                        &spec_tls12_chacha_burst, test_gap_beyond_reach);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls12-aes128-gcm", &spec_tls12_aes128,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls12-renegotiation", &spec_tls12_renegotiation,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls12-aes256-gcm", &spec_tls12_aes256,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls12-chacha20", &spec_tls12_chacha,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls12-aes128-cbc-sha-etm", &spec_tls12_cbc_sha,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls12-aes256-cbc-sha384-mte",
                        &spec_tls12_cbc_sha384_mte, test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls13-aes128-gcm", &spec_tls13_aes128,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls13-aes256-gcm", &spec_tls13_aes256,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls13-chacha20", &spec_tls13_chacha,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls13-key-update", &spec_tls13_key_update,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls13-hello-retry", &spec_tls13_hrr,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/openssl/tls13-early-data", &spec_tls13_early,
                        test_openssl_trace);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls12-aes128-gcm", &spec_tls12_aes128, test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls12-aes256-gcm", &spec_tls12_aes256, test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls12-renegotiation", &spec_tls12_renegotiation,
                        test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls12-chacha20", &spec_tls12_chacha, test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls12-aes128-cbc-sha-etm", &spec_tls12_cbc_sha,
                        test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls12-aes256-cbc-sha384-mte",
                        &spec_tls12_cbc_sha384_mte, test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls13-aes128-gcm", &spec_tls13_aes128, test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls13-aes256-gcm", &spec_tls13_aes256, test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls13-chacha20", &spec_tls13_chacha, test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls13-key-update", &spec_tls13_key_update,
                        test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls13-hello-retry", &spec_tls13_hrr, test_tshark);
  g_test_add_data_func ("/ts/trace/tls/tshark/tls13-early-data", &spec_tls13_early, test_tshark);

  return g_test_run ();
}
