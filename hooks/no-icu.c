/* ICU's converters, as "unsupported", for the statically linked hook.
 *
 * Debian's libxml2 is built with ICU, which it calls only for a document
 * whose declared encoding neither libxml2 itself nor glibc's iconv knows
 * (encoding.c, openIcuConverter). libvirt hands hooks UTF-8. Linking ICU
 * (and the libstdc++ it needs) would cost the hook more than all its work
 * at every exec (bench/results), so these make ucnv_open fail: such a
 * document is refused as "Unsupported encoding". The prototypes come from
 * ICU's own header, so a libxml2 that needs another signature fails the
 * build rather than the hook. */
#include <unicode/ucnv.h>

UConverter *ucnv_open(const char *converterName, UErrorCode *err)
{
	(void)converterName;
	*err = U_UNSUPPORTED_ERROR;
	return NULL;
}

void ucnv_close(UConverter *converter)
{
	(void)converter;
}

/* Unreachable without a converter; they fail all the same. */
void ucnv_setToUCallBack(UConverter *converter, UConverterToUCallback newAction,
			 const void *newContext, UConverterToUCallback *oldAction,
			 const void **oldContext, UErrorCode *err)
{
	(void)converter, (void)newAction, (void)newContext, (void)oldAction, (void)oldContext;
	*err = U_UNSUPPORTED_ERROR;
}

void ucnv_setFromUCallBack(UConverter *converter, UConverterFromUCallback newAction,
			   const void *newContext, UConverterFromUCallback *oldAction,
			   const void **oldContext, UErrorCode *err)
{
	(void)converter, (void)newAction, (void)newContext, (void)oldAction, (void)oldContext;
	*err = U_UNSUPPORTED_ERROR;
}

void ucnv_convertEx(UConverter *targetCnv, UConverter *sourceCnv, char **target,
		    const char *targetLimit, const char **source, const char *sourceLimit,
		    UChar *pivotStart, UChar **pivotSource, UChar **pivotTarget,
		    const UChar *pivotLimit, UBool reset, UBool flush, UErrorCode *err)
{
	(void)targetCnv, (void)sourceCnv, (void)target, (void)targetLimit, (void)source;
	(void)sourceLimit, (void)pivotStart, (void)pivotSource, (void)pivotTarget;
	(void)pivotLimit, (void)reset, (void)flush;
	*err = U_UNSUPPORTED_ERROR;
}

void UCNV_TO_U_CALLBACK_STOP(const void *context, UConverterToUnicodeArgs *toUArgs,
			     const char *codeUnits, int32_t length,
			     UConverterCallbackReason reason, UErrorCode *err)
{
	(void)context, (void)toUArgs, (void)codeUnits, (void)length, (void)reason, (void)err;
}

void UCNV_FROM_U_CALLBACK_STOP(const void *context, UConverterFromUnicodeArgs *fromUArgs,
			       const UChar *codeUnits, int32_t length, UChar32 codePoint,
			       UConverterCallbackReason reason, UErrorCode *err)
{
	(void)context, (void)fromUArgs, (void)codeUnits, (void)length, (void)codePoint;
	(void)reason, (void)err;
}
