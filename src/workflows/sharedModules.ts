/**
 * The modules every workflow on a worker shares instead of evaluating its own copy: the bundle's
 * preloadModules (src/workflowBundle.ts; docs/architecture.md, "Worker tuning"). With
 * `reuseV8Context` the SDK evaluates them once, before the first workflow, and then deep-freezes
 * what they export; every workflow's own modules are still evaluated anew.
 *
 * Only zod is shared: 5–7 ms of every workflow's start went to evaluating it. Our own schemas are
 * not: zod installs some of a schema's members on first use, which a frozen schema refuses. zod
 * also finishes its own set-up at the first schema it builds (the default locale goes into its
 * global config), so that happens here, before the freeze: one schema of each kind the workflows
 * build, a passing and a failing parse, and a JSON schema.
 */
import { z } from 'zod';

const kinds = z
  .object({
    text: z.string().min(1).max(10).optional(),
    count: z.number().int().nonnegative().default(0),
    flag: z.boolean().nullable(),
    mode: z.enum(['a', 'b']).catch('a'),
    list: z.array(z.string()).max(3),
    map: z.record(z.string(), z.number()),
  })
  .strict()
  .refine((v) => v.count < 10, { message: 'count' })
  .superRefine(() => undefined);

kinds.safeParse({ count: 1, flag: null, mode: 'b', list: ['x'], map: { k: 1 } });
kinds.safeParse({ text: '', count: -1, flag: 'no', list: [1, 2, 3, 4], map: { k: 'v' }, extra: 1 });
z.toJSONSchema(kinds, { io: 'output' });

export { z };
