// Included through the hiredis/ prefix: the header folder also holds generic names (read.h, sds.h).
#include <hiredis/hiredis.h>
