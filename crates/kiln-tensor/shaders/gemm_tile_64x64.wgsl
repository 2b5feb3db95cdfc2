// A tile shape of the GEMM core (matmul.wgsl), for the convolutions: a workgroup of 16 x 16
// invocations computes a 64 x 64 block of C, each invocation a 4 x 4 micro-tile, staging K in
// steps of 8. Few registers per invocation (16 accumulators, two loads per operand and step)
// let many invocations run at once, which covers the latency of the gathered im2col loads: on
// an H100 (before the core prefetched its tiles) the three convolution passes ran 1.7-2.3x
// faster with this shape than with 128 x 64 blocks of 8 x 8, and the convolutions' few channels
// would leave taller blocks half empty.

const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 8u;
const TM: u32 = 4u;
const TN: u32 = 4u;
