// A tile shape of the GEMM core (matmul.wgsl), for the matrix product: a workgroup of 8 x 16
// invocations computes a 128 x 64 block of C, each invocation an 8 x 8 micro-tile, staging K in
// steps of 8. Large blocks and micro-tiles load the fewest values per multiply-add: on an H100,
// before the core prefetched its tiles, the 4096 x 4096 product ran at 29 TFLOP/s with this
// shape, 27 with 64 x 64 blocks of 8 x 8 and 26 with 64 x 64 blocks of 4 x 4 (each staging K
// in steps of 8); with the prefetch, steps of 16 instead of 8 took it from 34 to 28 TFLOP/s.

const BM: u32 = 128u;
const BN: u32 = 64u;
const BK: u32 = 8u;
const TM: u32 = 8u;
const TN: u32 = 8u;
