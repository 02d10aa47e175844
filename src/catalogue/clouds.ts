import { z } from 'zod';

/** The clouds the compiler can target. */
export const Cloud = z.enum(['aws', 'gcp', 'azure']);
export type Cloud = z.infer<typeof Cloud>;

export const CLOUDS: readonly Cloud[] = Cloud.options;
