/* catalog.c: the catalog part (filled in as it lands). */
typedef int sl_catalog_placeholder;
