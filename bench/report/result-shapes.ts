import { z } from 'zod';

/**
 * The shapes the chart generator reads from bench/results/*.json: the one place that says which fields of which
 * benchmark's result file become which chart (documented for people in bench/results/README.md, "JSON shapes").
 * Every file follows the results-file contract of bench/report/results-file.ts (name, command, generatedAt,
 * machine, rows with their load); the charts read the fields below and ignore any others, so a benchmark may
 * add fields freely. Objects are loose: unknown keys pass through.
 */

export const loadSchema = z.tuple([z.number(), z.number(), z.number()]);

export const machineSchema = z.looseObject({
  node: z.string(),
  cpus: z.number(),
  cpuModel: z.string(),
  memGiB: z.number(),
});

/** What every result file carries (rows are checked per chart, as a file may mix kinds of rows). */
export const resultsFileSchema = z.looseObject({
  name: z.string(),
  command: z.string(),
  generatedAt: z.string(),
  machine: machineSchema,
  rows: z.array(z.looseObject({ load: loadSchema })),
});
export type ResultsFile = z.infer<typeof resultsFileSchema>;

/**
 * A throughput row (edge.json, stack.json): one server or setup (`target`) in one `scenario`. Rows without
 * `perSecond` (a latency row in stack.json, say) are not throughput rows and the throughput chart skips them.
 * `role`: "subject" is what we build (the edge, the whole stack), "reference" is what the target ratio is
 * measured against (Postfix smtpd for edge.json, the bare smtp-server for stack.json), "ceiling" is any other
 * comparison (smtp-server discarding, smtp-sink). Missing role means "subject".
 */
export const throughputRowSchema = z.looseObject({
  scenario: z.string(),
  target: z.string(),
  role: z.enum(['subject', 'reference', 'ceiling']).optional(),
  perSecond: z.number().nonnegative(),
  cpuMsPerMessage: z.number().optional(),
  load: loadSchema,
});
export type ThroughputRow = z.infer<typeof throughputRowSchema>;

/**
 * Latency samples (top-level `latency` of latency.json, else of stack.json): one series per condition, each
 * with every sample in milliseconds (device's end of DATA → the Graph request at the sandbox). The chart draws
 * their distribution (CDF) and computes p50/p99 itself; a single-sample series (the cold path) is drawn as one step.
 */
export const latencySeriesSchema = z.looseObject({
  label: z.string(),
  samplesMs: z.array(z.number().nonnegative()).min(1),
});
export const latencyFileSchema = z.looseObject({ latency: z.array(latencySeriesSchema).min(1) });
export type LatencySeries = z.infer<typeof latencySeriesSchema>;

/**
 * RSS over time (top-level `memorySeries` of edge-memory.json, else of edge.json): one series per run (e.g.
 * "idle", "one 150 MB message"), samples in time order from the series' start. `limits` are horizontal lines
 * (the issue's 80 MiB idle and 100 MiB streaming targets).
 */
export const memorySampleSchema = z.looseObject({
  tMs: z.number().nonnegative(),
  rssBytes: z.number().nonnegative(),
});
export const memorySeriesSchema = z.looseObject({
  label: z.string(),
  messageBytes: z.number().optional(),
  samples: z.array(memorySampleSchema).min(1),
});
export const memoryFileSchema = z.looseObject({
  memorySeries: z.array(memorySeriesSchema).min(1),
  limits: z.array(z.looseObject({ label: z.string(), bytes: z.number().positive() })).optional(),
});
export type MemorySeries = z.infer<typeof memorySeriesSchema>;
export type MemoryFile = z.infer<typeof memoryFileSchema>;
