// One clock for every process of a run: process.hrtime reads CLOCK_MONOTONIC (libuv uv_hrtime),
// which all processes on this machine share. Values are milliseconds with microsecond resolution.
export const monoMs = () => Number(process.hrtime.bigint()) / 1e6
