#include "tls_dn.h"

#include "hex.h"
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* OpenSSL's short names (OBJ_nid2sn; its long name where it has no short
 * one) of the attribute types it knows, as OpenSSL 3.0 has them, by arc
 * and last number. Other OIDs OpenSSL knows (algorithms, extensions) name
 * no attribute of a name. */
static const char *const x520[] = {  /* 2.5.4: X.520 */
	[3] = "CN", [4] = "SN", [5] = "serialNumber", [6] = "C", [7] = "L",
	[8] = "ST", [9] = "street", [10] = "O", [11] = "OU", [12] = "title",
	[13] = "description", [14] = "searchGuide",
	[15] = "businessCategory", [16] = "postalAddress",
	[17] = "postalCode", [18] = "postOfficeBox",
	[19] = "physicalDeliveryOfficeName", [20] = "telephoneNumber",
	[21] = "telexNumber", [22] = "teletexTerminalIdentifier",
	[23] = "facsimileTelephoneNumber", [24] = "x121Address",
	[25] = "internationaliSDNNumber", [26] = "registeredAddress",
	[27] = "destinationIndicator", [28] = "preferredDeliveryMethod",
	[29] = "presentationAddress", [30] = "supportedApplicationContext",
	[31] = "member", [32] = "owner", [33] = "roleOccupant",
	[34] = "seeAlso", [35] = "userPassword", [36] = "userCertificate",
	[37] = "cACertificate", [38] = "authorityRevocationList",
	[39] = "certificateRevocationList", [40] = "crossCertificatePair",
	[41] = "name", [42] = "GN", [43] = "initials",
	[44] = "generationQualifier", [45] = "x500UniqueIdentifier",
	[46] = "dnQualifier", [47] = "enhancedSearchGuide",
	[48] = "protocolInformation", [49] = "distinguishedName",
	[50] = "uniqueMember", [51] = "houseIdentifier",
	[52] = "supportedAlgorithms", [53] = "deltaRevocationList",
	[54] = "dmdName", [65] = "pseudonym", [72] = "role",
	[97] = "organizationIdentifier", [98] = "c3", [99] = "n3",
	[100] = "dnsName",
};

static const char *const pilot[] = {  /* RFC 1274, RFC 4519 */
	[1] = "UID", [2] = "textEncodedORAddress", [3] = "mail",
	[4] = "info", [5] = "favouriteDrink", [6] = "roomNumber",
	[7] = "photo", [8] = "userClass", [9] = "host", [10] = "manager",
	[11] = "documentIdentifier", [12] = "documentTitle",
	[13] = "documentVersion", [14] = "documentAuthor",
	[15] = "documentLocation", [20] = "homeTelephoneNumber",
	[21] = "secretary", [22] = "otherMailbox", [23] = "lastModifiedTime",
	[24] = "lastModifiedBy", [25] = "DC", [26] = "aRecord",
	[27] = "pilotAttributeType27", [28] = "mXRecord", [29] = "nSRecord",
	[30] = "sOARecord", [31] = "cNAMERecord", [37] = "associatedDomain",
	[38] = "associatedName", [39] = "homePostalAddress",
	[40] = "personalTitle", [41] = "mobileTelephoneNumber",
	[42] = "pagerTelephoneNumber", [43] = "friendlyCountryName",
	[44] = "uid", [45] = "organizationalStatus", [46] = "janetMailbox",
	[47] = "mailPreferenceOption", [48] = "buildingName",
	[49] = "dSAQuality", [50] = "singleLevelQuality",
	[51] = "subtreeMinimumQuality", [52] = "subtreeMaximumQuality",
	[53] = "personalSignature", [54] = "dITRedirect", [55] = "audio",
	[56] = "documentPublisher",
};

static const char *const pkcs9[] = {
	[1] = "emailAddress", [2] = "unstructuredName", [3] = "contentType",
	[4] = "messageDigest", [5] = "signingTime", [6] = "countersignature",
	[7] = "challengePassword", [8] = "unstructuredAddress",
	[9] = "extendedCertificateAttributes", [14] = "extReq",
	[15] = "SMIME-CAPS", [16] = "SMIME", [20] = "friendlyName",
	[21] = "localKeyID",
};

static const char *const jurisdiction[] = {  /* EV certificates */
	[1] = "jurisdictionL", [2] = "jurisdictionST", [3] = "jurisdictionC",
};

static const char *const ru_ids[] = {  /* Russian registration numbers */
	[1] = "OGRN", [3] = "SNILS", [5] = "OGRNIP",
};

static const char *const ru_inn[] = { [1] = "INN" };

static const char *const pkix_pda[] = {  /* RFC 3739 */
	[1] = "id-pda-dateOfBirth", [2] = "id-pda-placeOfBirth",
	[3] = "id-pda-gender", [4] = "id-pda-countryOfCitizenship",
	[5] = "id-pda-countryOfResidence",
};

#define ARC(prefix, t) { prefix ".", t, sizeof t / sizeof t[0] }
static const struct {
	const char *prefix;  /* the OID up to its last number, dot included */
	const char *const *names;
	size_t n;
} arcs[] = {
	ARC("2.5.4", x520),
	ARC("0.9.2342.19200300.100.1", pilot),
	ARC("1.2.840.113549.1.9", pkcs9),
	ARC("1.3.6.1.4.1.311.60.2.1", jurisdiction),
	ARC("1.2.643.100", ru_ids),
	ARC("1.2.643.3.131.1", ru_inn),
	ARC("1.3.6.1.5.5.7.9", pkix_pda),
};

/* OpenSSL prints an unknown OID into 80 bytes and keeps what fits. */
#define OID_TEXT_MAX 80

static const char *short_name(const char *oid)
{
	for (size_t i = 0; i < sizeof arcs / sizeof arcs[0]; i++) {
		size_t n = strlen(arcs[i].prefix);
		const char *last = oid + n;
		unsigned long v = 0;

		if (strncmp(oid, arcs[i].prefix, n) != 0 || !*last ||
		    strlen(last) > 4 || strspn(last, "0123456789") != strlen(last))
			continue;
		for (; *last; last++)
			v = v * 10 + (unsigned long)(*last - '0');
		return v < arcs[i].n ? arcs[i].names[v] : NULL;
	}
	return NULL;
}

/* One DER element: its whole encoding (for a hex dump), its tag and its
 * contents. */
struct der {
	const unsigned char *tlv, *body;
	size_t tlv_len, len;
	unsigned char tag;
};

/* The element at *p, which ends before end; *p moves past it. One-byte
 * tags and definite lengths only, as DER has them. */
static int der_next(const unsigned char **p, const unsigned char *end,
                    struct der *e)
{
	const unsigned char *q = *p;
	size_t avail = (size_t)(end - q), hdr = 2, n;

	if (avail < 2 || (q[0] & 0x1f) == 0x1f)
		return -1;
	n = q[1];
	if (n & 0x80) {
		size_t k = n & 0x7f;

		if (k == 0 || k > 4 || avail < 2 + k)
			return -1;
		n = 0;
		for (size_t i = 0; i < k; i++)
			n = n << 8 | q[2 + i];
		hdr += k;
	}
	if (n > avail - hdr)
		return -1;
	*e = (struct der){ q, q + hdr, hdr + n, n, q[0] };
	*p = q + hdr + n;
	return 0;
}

/* An OID's contents as dotted text, as OBJ_obj2txt(..., 1) writes it
 * into OID_TEXT_MAX bytes. -1 for what OpenSSL refuses to read (empty, a
 * number padded with 0x80, an unfinished last number) and for a number
 * past 64 bits, which OpenSSL would print and this does not. */
static int oid_text(const unsigned char *p, size_t n, char *out)
{
	uint64_t v = 0;
	size_t used = 0;
	int first = 1, start = 1;

	if (n == 0 || p[n - 1] & 0x80)
		return -1;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if ((start && p[i] == 0x80) || v > (UINT64_MAX >> 7))
			return -1;
		v = v << 7 | (p[i] & 0x7f);
		start = !(p[i] & 0x80);
		if (!start)
			continue;
		if (first) {
			unsigned top = v < 40 ? 0 : v < 80 ? 1 : 2;

			used += (size_t)snprintf(out + used, OID_TEXT_MAX - used,
			                         "%u.%llu", top,
			                         (unsigned long long)(v - 40 * top));
		} else {
			used += (size_t)snprintf(out + used, OID_TEXT_MAX - used,
			                         ".%llu", (unsigned long long)v);
		}
		if (used >= OID_TEXT_MAX)
			used = OID_TEXT_MAX - 1;  /* full: the rest is cut */
		first = 0;
		v = 0;
	}
	return 0;
}

static void put_hex(struct strbuf *t, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char h[3];

		hex_encode(p + i, 1, h, sizeof h, 0);
		strbuf_put(t, h, 2);
	}
}

/* One byte of a value's UTF-8 as OpenSSL's RFC 2253 printing escapes it.
 * first and last: the byte belongs to the value's first or last
 * character (a one-character value counts as last only, as in OpenSSL). */
static void put_char(struct strbuf *t, unsigned char c, int first, int last)
{
	char esc[2] = { '\\', (char)c };

	if (c < 0x20 || c >= 0x7f) {
		char hex[4] = "\\";

		hex_encode(&c, 1, hex + 1, sizeof hex - 1, 0);
		strbuf_put(t, hex, 3);
	} else if (strchr(",+\"\\<>;", c) || (first && (c == ' ' || c == '#')) ||
	           (last && c == ' ')) {
		strbuf_put(t, esc, 2);
	} else {
		strbuf_put(t, esc + 1, 1);
	}
}

/* A code point as UTF-8. 0 bytes for a surrogate or past U+10FFFF: no
 * character, and a name that holds one is refused whole (put_string). */
static size_t utf8(uint32_t c, unsigned char *out)
{
	if (c < 0x80) {
		out[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (unsigned char)(0xc0 | c >> 6);
		out[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		if (c >= 0xd800 && c < 0xe000)
			return 0;
		out[0] = (unsigned char)(0xe0 | c >> 12);
		out[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	if (c < 0x110000) {
		out[0] = (unsigned char)(0xf0 | c >> 18);
		out[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
		out[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		out[3] = (unsigned char)(0x80 | (c & 0x3f));
		return 4;
	}
	return 0;
}

/* How OpenSSL reads a string type: UTF8String byte by byte as it is;
 * the others one code point per 1, 2 (BMPString) or 4 (UniversalString)
 * bytes, turned into UTF-8. 0: not a string, dumped in hex. */
enum width { DUMP = 0, AS_IS = -1, ONE = 1, TWO = 2, FOUR = 4 };

static enum width width_of(unsigned char tag)
{
	switch (tag) {
	case 0x0c: return AS_IS;          /* UTF8String */
	case 0x12: case 0x13: case 0x14:  /* Numeric, Printable, T61 */
	case 0x16: case 0x17: case 0x18:  /* IA5, UTCTime, GeneralizedTime */
	case 0x1a: return ONE;            /* VisibleString */
	case 0x1e: return TWO;            /* BMPString */
	case 0x1c: return FOUR;           /* UniversalString */
	default: return DUMP;
	}
}

static int put_string(struct strbuf *t, const struct der *v, enum width w)
{
	size_t step = w == AS_IS ? 1 : (size_t)w;

	if (v->len % step)
		return -1;  /* OpenSSL's print fails on it */
	for (size_t i = 0; i < v->len; i += step) {
		int last = i + step == v->len, first = i == 0 && !last;
		unsigned char b[4];
		uint32_t c = 0;
		size_t n;

		for (size_t k = 0; k < step; k++)
			c = c << 8 | v->body[i + k];
		if (w == AS_IS) {
			b[0] = (unsigned char)c;
			n = 1;
		} else if ((n = utf8(c, b)) == 0) {
			/* Leaving it out would print another name ("adm" U+D800
			 * "in" as "admin"); OpenSSL refuses such a certificate. */
			return -1;
		}
		for (size_t k = 0; k < n; k++)
			put_char(t, b[k], first, last);
	}
	return 0;
}

struct ava {
	struct der oid, value;
	unsigned rdn;  /* which RDN: "+" joins values of the same one */
};

static int put_ava(struct strbuf *t, const struct ava *a)
{
	char oid[OID_TEXT_MAX];
	const char *name;
	enum width w = width_of(a->value.tag);

	if (oid_text(a->oid.body, a->oid.len, oid) < 0)
		return -1;
	name = short_name(oid);
	strbuf_puts(t, name ? name : oid);
	strbuf_puts(t, "=");
	if (name && w != DUMP)
		return put_string(t, &a->value, w);
	strbuf_puts(t, "#");
	put_hex(t, a->value.tlv, a->value.tlv_len);
	return 0;
}

/* The attributes of a Name in their order, the RDN of each noted. */
static int read_name(const unsigned char *der, size_t len, struct ava *avas,
                     size_t *navas)
{
	const unsigned char *p = der, *end = der + len;
	struct der name, rdn, atv;
	unsigned nrdn = 0;

	*navas = 0;
	if (der_next(&p, end, &name) < 0 || name.tag != 0x30 || p != end)
		return -1;
	for (p = name.body; p < name.body + name.len; nrdn++) {
		const unsigned char *q;

		if (der_next(&p, name.body + name.len, &rdn) < 0 || rdn.tag != 0x31)
			return -1;
		for (q = rdn.body; q < rdn.body + rdn.len;) {
			struct ava *a = &avas[*navas];
			const unsigned char *r;

			if (*navas == TLS_DN_AVAS_MAX ||
			    der_next(&q, rdn.body + rdn.len, &atv) < 0 || atv.tag != 0x30)
				return -1;
			r = atv.body;
			if (der_next(&r, atv.body + atv.len, &a->oid) < 0 ||
			    a->oid.tag != 0x06 ||
			    der_next(&r, atv.body + atv.len, &a->value) < 0 ||
			    r != atv.body + atv.len)
				return -1;
			a->rdn = nrdn;
			(*navas)++;
		}
	}
	return 0;
}

int tls_dn_openssl(const unsigned char *der, size_t len, char *out,
                   size_t size)
{
	struct ava avas[TLS_DN_AVAS_MAX];
	struct strbuf t;
	size_t n;

	if (size == 0)
		return -1;
	out[0] = '\0';
	strbuf_init(&t, out, size - 1);   /* and the NUL */
	if (read_name(der, len, avas, &n) < 0)
		return -1;
	for (size_t i = n; i-- > 0 && !t.overflow;) {
		if (i + 1 < n)
			strbuf_puts(&t, avas[i].rdn == avas[i + 1].rdn ? "+" : ",");
		if (put_ava(&t, &avas[i]) < 0)
			t.overflow = 1;
	}
	/* No half a name. */
	out[t.overflow ? 0 : t.len] = '\0';
	return t.overflow ? -1 : 0;
}
