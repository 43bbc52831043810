/* ingest.c: the ingest part (filled in as it lands). */
typedef int sl_ingest_placeholder;
