#ifndef SMBVOL_CCURL_SHIM_H
#define SMBVOL_CCURL_SHIM_H
// Swift cannot call C variadic functions, so curl_easy_setopt / curl_easy_getinfo get typed,
// non-variadic wrappers here (the same approach as swift-corelibs-foundation's libcurl layer).
#include <curl/curl.h>

typedef size_t (*smbvol_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);

static inline CURLcode smbvol_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode smbvol_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode smbvol_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode smbvol_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode smbvol_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode smbvol_curl_setopt_data_callback(CURL *handle, CURLoption option, smbvol_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode smbvol_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode smbvol_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}
#endif
