/* ts-pcapng-private.h: pcapng block and option numbers shared by the reader and the writer.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * From draft-ietf-opsawg-pcapng (the pcapng specification). Every block:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +---------------------------------------------------------------+
 *   |                          Block Type                           |
 *   +---------------------------------------------------------------+
 *   |                      Block Total Length                       |
 *   +---------------------------------------------------------------+
 *   /                          Block Body                           /
 *   +---------------------------------------------------------------+
 *   |                      Block Total Length                       |
 *   +---------------------------------------------------------------+
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

enum
{
  TS_PCAPNG_BLOCK_IDB = 0x00000001,
  TS_PCAPNG_BLOCK_PB = 0x00000002, /* obsolete Packet Block */
  TS_PCAPNG_BLOCK_SPB = 0x00000003,
  TS_PCAPNG_BLOCK_NRB = 0x00000004,
  TS_PCAPNG_BLOCK_ISB = 0x00000005,
  TS_PCAPNG_BLOCK_EPB = 0x00000006,
  TS_PCAPNG_BLOCK_SJE = 0x00000009, /* Systemd Journal Export */
  TS_PCAPNG_BLOCK_DSB = 0x0000000A, /* Decryption Secrets */
  TS_PCAPNG_BLOCK_SHB = 0x0A0D0D0A,
};

enum
{
  TS_PCAPNG_OPT_ENDOFOPT = 0,
  TS_PCAPNG_OPT_COMMENT = 1,
  TS_PCAPNG_OPT_SHB_HARDWARE = 2,
  TS_PCAPNG_OPT_SHB_OS = 3,
  TS_PCAPNG_OPT_SHB_USERAPPL = 4,
  TS_PCAPNG_OPT_IF_NAME = 2,
  TS_PCAPNG_OPT_IF_DESCRIPTION = 3,
  TS_PCAPNG_OPT_IF_TSRESOL = 9,
  TS_PCAPNG_OPT_IF_TSOFFSET = 14,
  TS_PCAPNG_OPT_ISB_IFRECV = 4,
  TS_PCAPNG_OPT_ISB_IFDROP = 5,
  TS_PCAPNG_OPT_ISB_OSDROP = 7,
  TS_PCAPNG_OPT_ISB_USRDELIV = 8,
};

#define TS_PCAPNG_BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define TS_PCAPNG_SCENARIO_PREFIX "scenario: "

G_END_DECLS
