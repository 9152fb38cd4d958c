/* The kernel table of one instruction set (this file is compiled once per arch); its entries
 * come from the kernel signature table through native/kernels.gen.h. */
#include "fl.h"

#define FL_KERNEL_ENTRY(name, ret, params) .name = FL_FN(fl_##name),

const fl_kernels FL_FN(fl_kernels) = {
  .isa = FL_ISA,
  .peak = FL_FN(fl_peak),
  FL_KERNEL_LIST(FL_KERNEL_ENTRY)
};
