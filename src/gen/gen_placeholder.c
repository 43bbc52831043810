/* gen.c: the gen part (filled in as it lands). */
typedef int sl_gen_placeholder;
