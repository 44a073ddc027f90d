// The CBLAS interface of the system OpenBLAS (Debian: libopenblas-dev).
#include <cblas.h>
