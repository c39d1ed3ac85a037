import { z } from 'zod';

export const Health = z.strictObject({
  status: z.literal('ok'),
  version: z.string(),
  database: z.enum(['sqlite', 'postgres']),
});
export type Health = z.infer<typeof Health>;
