/* fuzz-lab-scenario.c: libFuzzer target: scenario files through the parser and the address planner.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdint.h>

#include "ts-lab-plan.h"
#include "ts-lab-scenario.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Half of the runs also override a link's delay and a variable, as
   * --set does. */
  const char *sets[] = { "link.client-proxy.delay=5ms", NULL };
  TsLabScenario *s;
  GError *error = NULL;

  s = ts_lab_scenario_new_from_data ("fuzz.scenario", (const char *)data, size,
                                     size % 2 ? sets : NULL, &error);
  if (s != NULL)
    {
      TsLabPlan *plan = ts_lab_plan_new (s, &error);
      if (plan != NULL)
        {
          g_free (ts_lab_plan_to_json (plan, "fuzz", FALSE));
          ts_lab_plan_free (plan);
        }
      ts_lab_scenario_free (s);
    }
  g_clear_error (&error);
  return 0;
}
