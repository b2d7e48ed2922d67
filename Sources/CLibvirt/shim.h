#ifndef SMBVOL_CLIBVIRT_SHIM_H
#define SMBVOL_CLIBVIRT_SHIM_H
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif
