// Stand-in for an optional module that is not in this checkout (see build.mjs).
export {}
