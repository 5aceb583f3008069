/* ts-ws-frame.c: WebSocket framing and handshake key.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "ts-ws-frame.h"

#include <string.h>

#define TS_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static const struct
{
  guint value;
  const char *name;
} opcode_names[] = {
  { TS_WS_OPCODE_CONTINUATION, "continuation" },
  { TS_WS_OPCODE_TEXT, "text" },
  { TS_WS_OPCODE_BINARY, "binary" },
  { TS_WS_OPCODE_CLOSE, "close" },
  { TS_WS_OPCODE_PING, "ping" },
  { TS_WS_OPCODE_PONG, "pong" },
};

const char *
ts_ws_opcode_to_string (guint opcode)
{
  for (gsize i = 0; i < G_N_ELEMENTS (opcode_names); i++)
    if (opcode_names[i].value == opcode)
      return opcode_names[i].name;
  return NULL;
}

gssize
ts_ws_frame_parse (TsWsFrame *out_frame, const guint8 *data, gsize len)
{
  TsWsFrame f = { 0 };
  gsize pos = 2;
  guint64 plen;
  guint opcode;

  g_return_val_if_fail (out_frame != NULL, TS_PARSE_INVALID);
  g_return_val_if_fail (data != NULL || len == 0, TS_PARSE_INVALID);

  if (len < 2)
    return TS_PARSE_INCOMPLETE;
  /* No extension is negotiated, so the RSV bits must be 0 (§5.2). */
  if (data[0] & 0x70)
    return TS_PARSE_INVALID;
  f.fin = (data[0] & 0x80) != 0;
  opcode = data[0] & 0x0f;
  if (ts_ws_opcode_to_string (opcode) == NULL)
    return TS_PARSE_INVALID;
  f.opcode = (TsWsOpcode)opcode;
  f.masked = (data[1] & 0x80) != 0;
  plen = data[1] & 0x7f;

  if (plen == 126)
    {
      if (len < pos + 2)
        return TS_PARSE_INCOMPLETE;
      plen = ((guint64)data[pos] << 8) | data[pos + 1];
      pos += 2;
    }
  else if (plen == 127)
    {
      if (len < pos + 8)
        return TS_PARSE_INCOMPLETE;
      if (data[pos] & 0x80)
        return TS_PARSE_INVALID;
      plen = 0;
      for (int i = 0; i < 8; i++)
        plen = (plen << 8) | data[pos + i];
      pos += 8;
    }

  /* Control frames: not fragmented, payload at most 125 bytes (§5.5). */
  if ((opcode & 0x8) && (!f.fin || plen > 125))
    return TS_PARSE_INVALID;
  if (plen > TS_WS_MAX_PAYLOAD)
    return TS_PARSE_TOO_LARGE;

  if (f.masked)
    {
      if (len < pos + 4)
        return TS_PARSE_INCOMPLETE;
      memcpy (f.mask_key, data + pos, 4);
      pos += 4;
    }
  if (len - pos < plen)
    return TS_PARSE_INCOMPLETE;

  f.header_len = pos;
  f.payload_len = plen;
  f.payload = data + pos;
  *out_frame = f;
  return (gssize)(pos + plen);
}

void
ts_ws_mask (guint8 *data, gsize len, const guint8 mask_key[4])
{
  g_return_if_fail (data != NULL || len == 0);
  for (gsize i = 0; i < len; i++)
    data[i] ^= mask_key[i & 3];
}

void
ts_ws_frame_append (GByteArray *out, gboolean fin, TsWsOpcode opcode, const guint8 *mask_key,
                    const void *payload, gsize len)
{
  guint8 hdr[14];
  gsize n = 0;
  guint start;

  g_return_if_fail (out != NULL);
  g_return_if_fail (payload != NULL || len == 0);

  hdr[n++] = (guint8)((fin ? 0x80 : 0) | (opcode & 0x0f));
  if (len < 126)
    hdr[n++] = (guint8)len;
  else if (len <= 0xffff)
    {
      hdr[n++] = 126;
      hdr[n++] = (guint8)(len >> 8);
      hdr[n++] = (guint8)len;
    }
  else
    {
      hdr[n++] = 127;
      for (int i = 7; i >= 0; i--)
        hdr[n++] = (guint8)((guint64)len >> (8 * i));
    }
  if (mask_key)
    {
      hdr[1] |= 0x80;
      memcpy (hdr + n, mask_key, 4);
      n += 4;
    }
  g_byte_array_append (out, hdr, (guint)n);
  start = out->len;
  g_byte_array_append (out, payload, (guint)len);
  if (mask_key)
    ts_ws_mask (out->data + start, len, mask_key);
}

char *
ts_ws_accept_for_key (const char *key, gsize key_len)
{
  g_autoptr (GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize digest_len = sizeof digest;

  g_return_val_if_fail (key != NULL, NULL);
  g_checksum_update (sha1, (const guchar *)key, (gssize)key_len);
  g_checksum_update (sha1, (const guchar *)TS_WS_GUID, -1);
  g_checksum_get_digest (sha1, digest, &digest_len);
  return g_base64_encode (digest, digest_len);
}
