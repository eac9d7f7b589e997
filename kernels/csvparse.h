/* CSV parsing kernel for ECG recordings.
 *
 * Plain C99 (libc only), no GLib types.  The CPU
 * implementation lives in csvparse_ref.c; parsing text has no CUDA twin.
 *
 * Format accepted:
 *  - one record per line, lines end in "\n" or "\r\n" (a bare "\r" is not
 *    a line end; a "\n" inside a quoted field is not supported);
 *  - fields are separated by ',' only (no ';' or tab separators);
 *  - spaces and tabs around a field are trimmed;
 *  - a field may be quoted with '"' (RFC 4180, "" is an escaped quote, a ','
 *    inside quotes does not split); header fields may also be quoted with
 *    single quotes as PhysioNet/Kaggle MIT-BIH exports do ('MLII');
 *  - numbers are decimal: [+-]digits[.digits][(e|E)[+-]digits], or nan,
 *    nan(chars), inf, infinity in any case.  Hexadecimal floats, which strtod
 *    also accepts, are treated as non-numeric.
 */
#ifndef __CSVPARSE_H__
#define __CSVPARSE_H__

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: 0 ok, > 0 informational, < 0 errors. */
enum
{
  CSV_OK               =  0, /* value parsed / all complete lines consumed */
  CSV_FULL             =  1, /* output array full, call again */
  CSV_ERR_INVAL        = -1, /* bad arguments (programmer error) */
  CSV_ERR_EMPTY_LINE   = -2, /* line is empty or holds only blanks */
  CSV_ERR_RAGGED       = -3, /* wrong number of fields or column missing */
  CSV_ERR_NOT_NUMERIC  = -4, /* selected cell is not a number */
  CSV_ERR_NOT_FINITE   = -5  /* selected cell is nan or +-inf, or
                                overflows float */
};

/* Return values of csv_parse_double () and csv_parse_float (). */
enum
{
  CSV_FLOAT_OK         =  0, /* finite float stored */
  CSV_FLOAT_NOT_FINITE =  1, /* nan or +-inf stored (also overflow) */
  CSV_FLOAT_NONE       = -1  /* no number at s; *stop = s */
};

const char *csv_strerror        (int status);

int         csv_parse_double    (const char * s, const char * end,
                                 double * out, const char ** stop);
int         csv_parse_float     (const char * s, const char * end,
                                 float * out, const char ** stop);
int         csv_field_parse_float (const char * field, size_t len,
                                 float * out);

size_t      csv_bom_length      (const char * buf, size_t len);

/* Iterates over the fields of one line. */
typedef struct
{
  const char *p;
  const char *end;
  int done;
} CsvFieldIter;

void        csv_fields_init     (CsvFieldIter * it, const char * line,
                                 size_t len);
int         csv_fields_next     (CsvFieldIter * it, const char ** field,
                                 size_t * flen, int * quoted);
int         csv_line_count_fields (const char * line, size_t len);
int         csv_line_get_field  (const char * line, size_t len, int index,
                                 const char ** field, size_t * flen,
                                 int * quoted);
int         csv_line_is_header  (const char * line, size_t len);
int         csv_header_find_column (const char * line, size_t len,
                                 const char * name);

/* Outcome of one csv_parse_block () call. */
typedef struct
{
  size_t consumed;   /* bytes of buf consumed: the lines that gave values.
                      * On an error return, the offending line starts at
                      * buf + consumed. */
  size_t n_values;   /* values stored in out (one per consumed line) */
  size_t line_len;   /* on error: length of the offending line including
                      * its terminator, so the caller can skip it */
  int n_fields;      /* on CSV_ERR_RAGGED: fields found in that line */
  float value;       /* on CSV_ERR_NOT_FINITE: the value (nan or +-inf) */
} CsvBlockResult;

int         csv_parse_block     (const char * buf, size_t len, int at_eof,
                                 int column, int n_columns, float * out,
                                 size_t max_out, CsvBlockResult * res);

/* A pool of threads, started once and woken for each run: the caller of
 * csv_pool_run () works too, so a pool of N threads starts N - 1.  One
 * caller at a time per pool. */
#define CSV_POOL_MAX_THREADS 16
typedef struct _CsvPool CsvPool;
typedef void (*CsvPoolFunc) (void * data, int index);

CsvPool    *csv_pool_new        (int n_threads);
void        csv_pool_free       (CsvPool * pool);
int         csv_pool_threads    (const CsvPool * pool);
void        csv_pool_run        (CsvPool * pool, int n_tasks,
                                 CsvPoolFunc func, void * data);

/* csv_parse_block () on the threads of @pool: the buffer is cut at line
 * ends into parts parsed at once, each straight into its place in @out.
 * The result, @res and the res->n_values values in @out are exactly those
 * of csv_parse_block () with the same arguments; @out after them (up to
 * @max_out) may be written too. */
int         csv_parse_block_pool (CsvPool * pool, const char * buf,
                                 size_t len, int at_eof, int column,
                                 int n_columns, float * out, size_t max_out,
                                 CsvBlockResult * res);

/* csv_parse_block_pool () on a pool of up to @n_threads made for this
 * call (threads started and joined each time: prefer a pool), or
 * csv_parse_block () for one thread or less than 64 KiB.  @workspace is no
 * longer used, but NULL still means one thread; the size below is kept for
 * callers that allocate it. */
#define CSV_MT_MAX_THREADS 64
size_t      csv_parse_block_mt_workspace_size (size_t len, int n_threads);
int         csv_parse_block_mt  (const char * buf, size_t len, int at_eof,
                                 int column, int n_columns, float * out,
                                 size_t max_out, CsvBlockResult * res,
                                 int n_threads, void * workspace);

#ifdef __cplusplus
}
#endif

#endif /* __CSVPARSE_H__ */
