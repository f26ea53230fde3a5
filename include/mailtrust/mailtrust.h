/* mailtrust: umbrella header.  Include this, link with -lmailtrust
 * (pkg-config --cflags --libs mailtrust). */
#ifndef MAILTRUST_H
#define MAILTRUST_H
#include <mailtrust/common.h>
#include <mailtrust/version.h>
#include <mailtrust/dns.h>
#include <mailtrust/run.h>
#include <mailtrust/spf.h>
#include <mailtrust/spf_verify.h>
#include <mailtrust/authres.h>
#include <mailtrust/msg.h>
#include <mailtrust/dkim_key.h>
#include <mailtrust/dkim.h>
#include <mailtrust/dkim_sign.h>
#include <mailtrust/dkim_check.h>
#include <mailtrust/dmarc_verify.h>
#include <mailtrust/dmarc.h>
#include <mailtrust/verdict.h>
#endif
