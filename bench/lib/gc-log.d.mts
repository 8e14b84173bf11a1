/** This process's GC pauses: [start epoch ms, duration ms, kind]. */
export const gcPauses: [start: number, ms: number, kind: number][];
