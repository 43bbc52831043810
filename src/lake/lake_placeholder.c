/* lake.c: the lake part (filled in as it lands). */
typedef int sl_lake_placeholder;
