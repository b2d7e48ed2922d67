#ifndef SMBVOL_CCURL_SHIM_H
#define SMBVOL_CCURL_SHIM_H
// libcurl's types and constants only: smbvol loads libcurl with dlopen on its first request
// (QumuloClient's CurlLibrary), so a hook run that talks to no cluster never maps libcurl and
// the ~25 libraries it pulls in.
//
// Swift cannot call C variadic functions, so curl_easy_setopt / curl_easy_getinfo get typed,
// non-variadic wrappers here (as in swift-corelibs-foundation's libcurl layer); they call the
// function pointer looked up by dlsym.
#include <curl/curl.h>

typedef size_t (*smbvol_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef CURLcode (*smbvol_curl_setopt_function)(CURL *handle, CURLoption option, ...);
typedef CURLcode (*smbvol_curl_getinfo_function)(CURL *handle, CURLINFO info, ...);

static inline CURLcode smbvol_curl_setopt_long(void *function, CURL *handle, CURLoption option, long value) {
    return ((smbvol_curl_setopt_function)function)(handle, option, value);
}

static inline CURLcode smbvol_curl_setopt_string(void *function, CURL *handle, CURLoption option, const char *value) {
    return ((smbvol_curl_setopt_function)function)(handle, option, value);
}

static inline CURLcode smbvol_curl_setopt_pointer(void *function, CURL *handle, CURLoption option, void *value) {
    return ((smbvol_curl_setopt_function)function)(handle, option, value);
}

static inline CURLcode smbvol_curl_setopt_slist(void *function, CURL *handle, CURLoption option, struct curl_slist *value) {
    return ((smbvol_curl_setopt_function)function)(handle, option, value);
}

static inline CURLcode smbvol_curl_setopt_offset(void *function, CURL *handle, CURLoption option, curl_off_t value) {
    return ((smbvol_curl_setopt_function)function)(handle, option, value);
}

static inline CURLcode smbvol_curl_setopt_data_callback(void *function, CURL *handle, CURLoption option, smbvol_curl_data_callback value) {
    return ((smbvol_curl_setopt_function)function)(handle, option, value);
}

static inline CURLcode smbvol_curl_getinfo_long(void *function, CURL *handle, CURLINFO info, long *value) {
    return ((smbvol_curl_getinfo_function)function)(handle, info, value);
}
// The multi interface (several transfers in flight on one thread, connections kept in the
// multi handle's cache). curl_multi_setopt is variadic too; a CURLMsg's result sits in a union.
typedef CURLMcode (*smbvol_curl_multi_setopt_function)(CURLM *multi, CURLMoption option, ...);

static inline CURLMcode smbvol_curl_multi_setopt_long(void *function, CURLM *multi, CURLMoption option, long value) {
    return ((smbvol_curl_multi_setopt_function)function)(multi, option, value);
}

/// 1 when `message` says a transfer finished (its handle and result filled in), else 0.
static inline int smbvol_curl_message_done(const CURLMsg *message, CURL **handle, CURLcode *result) {
    if (message == NULL || message->msg != CURLMSG_DONE) return 0;
    *handle = message->easy_handle;
    *result = message->data.result;
    return 1;
}
#endif
