"""Seeded generator of realistic sample data for Ledgerly, a fictional invoicing/accounting SaaS, with planted truth.

``generate_sample(out_dir)`` writes ``feedback.csv``, ``customers.csv`` and ``tickets.csv`` (the tables of the
README's Data model) plus ``truth.csv`` (``feedback_id``, ``topics``, ``noise``): the topics each row was written
about, so tests and benchmarks can check that the pipeline recovers them. The planted effects (pain-point
volumes, churn multipliers, the emerging export bug, the segment-confounded price complaint, the week-7
outage) are the named constants below and are documented in ``sample_data/README.md``.

Every random draw comes from one ``numpy.random.default_rng(seed)`` in a fixed order and every value is
formatted to text before writing, so the same arguments write the same bytes.

>>> import tempfile
>>> counts = generate_sample(tempfile.mkdtemp(), customers=50, weeks=2, seed=1)
>>> sorted(counts)
['customers.csv', 'feedback.csv', 'tickets.csv', 'truth.csv']
>>> counts["customers.csv"]
50
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ConfigError

SECONDS_PER_DAY = 86_400
DAYS_PER_WEEK = 7

# ---------------------------------------------------------------- customers
#: share of customers in each segment
SEGMENT_SHARES = {"enterprise": 0.15, "smb": 0.40, "consumer": 0.45}
#: probability of churning during the window for a customer who raised no pain point
BASE_CHURN = {"enterprise": 0.06, "smb": 0.18, "consumer": 0.28}
#: cap on the churn probability after multiplying in the pain points
CHURN_PROBABILITY_CAP = 0.9
#: plan mix per segment
PLAN_SHARES = {
    "enterprise": {"basic": 0.0, "pro": 0.3, "business": 0.7},
    "smb": {"basic": 0.25, "pro": 0.5, "business": 0.25},
    "consumer": {"basic": 0.7, "pro": 0.3, "business": 0.0},
}
#: monthly list price per seat in USD
PLAN_PRICE = {"basic": 12.0, "pro": 29.0, "business": 79.0}
#: inclusive range of seats per account; monthly_revenue = price x seats
SEATS = {"enterprise": (10, 120), "smb": (1, 12), "consumer": (1, 1)}
#: median acquisition cost in USD (log-normal, sigma CAC_SIGMA)
CAC_MEDIAN = {"enterprise": 6000.0, "smb": 600.0, "consumer": 60.0}
CAC_SIGMA = 0.4
#: region mix
REGION_SHARES = {"NA": 0.40, "EU": 0.30, "UK": 0.12, "APAC": 0.12, "LATAM": 0.06}
#: share of customers who sign up during the window (the rest signed up before it)
NEW_CUSTOMER_SHARE = 0.15
#: earliest signup, in days before the window starts
MAX_TENURE_DAYS = 900

# ---------------------------------------------------------------- feedback volume and channels
#: mean feedback messages per active customer per week (Poisson)
MESSAGES_PER_CUSTOMER_WEEK = 0.45
#: channel mix of feedback rows
CHANNEL_SHARES = {"email": 0.32, "chat": 0.26, "survey": 0.22, "review": 0.10, "social": 0.10}
#: share of email/chat rows that carry a post-ticket CSAT answer
POST_TICKET_CSAT_SHARE = 0.30
#: share of survey rows missing the NPS / CES answer
SURVEY_NPS_MISSING = 0.10
SURVEY_CES_MISSING = 0.20
#: hour-of-day weights (0..23): mostly business hours
HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 13, 11, 12, 13, 13, 12, 10, 8, 7, 6, 4, 3, 2], float)


@dataclass(frozen=True)
class PainPoint:
    """A planted pain point: how often it is the main topic of a fresh message, and its effect on churn."""

    weight: float  #: probability that a fresh (non follow-up) message is mainly about it
    churn_multiplier: float  #: factor on the customer's churn probability once they raised it
    hard: bool  #: hard tickets need 2-4 contacts and take longer to resolve


#: the planted pain points; weights are per fresh message, before follow-ups and second topics
PAIN_POINTS = {
    "login_password": PainPoint(weight=0.077, churn_multiplier=1.0, hard=False),  # most frequent, harmless
    "double_charge": PainPoint(weight=0.033, churn_multiplier=1.6, hard=True),
    "data_loss": PainPoint(weight=0.016, churn_multiplier=3.0, hard=True),  # rare, top churn driver
    "slow_performance": PainPoint(weight=0.043, churn_multiplier=1.1, hard=False),
    "refund_delay": PainPoint(weight=0.024, churn_multiplier=1.4, hard=True),
    "export_broken": PainPoint(weight=0.055, churn_multiplier=1.2, hard=False),  # only from EMERGING_FROM_WEEK
    "price_increase": PainPoint(weight=0.0, churn_multiplier=1.0, hard=False),  # weight per segment below
    "mobile_crash": PainPoint(weight=0.025, churn_multiplier=1.3, hard=False),
}
#: the emerging pain point and the first week (1-based) it can appear in
EMERGING_TOPIC = "export_broken"
EMERGING_FROM_WEEK = 9
#: the segment-confounded pain point: weight per segment (consumers churn more anyway; multiplier is 1.0)
CONFOUNDED_TOPIC = "price_increase"
CONFOUNDED_WEIGHTS = {"enterprise": 0.005, "smb": 0.015, "consumer": 0.070}
#: data loss hits accounts that sync a lot: factor on its weight per segment (puts revenue behind the top driver)
DATA_LOSS_SEGMENT_FACTOR = {"enterprise": 2.0, "smb": 1.2, "consumer": 0.5}
#: praise, neutral questions and topic-less comments, per fresh message
PRAISE_WEIGHTS = {"helpful_support": 0.11, "easy_invoicing": 0.11}
HOW_TO_WEIGHT = 0.10  # the rest of the probability mass is a generic comment with no topic
#: probability that a message of a customer with an open pain point follows up on their latest one
FOLLOW_UP_SHARE = 0.30
#: probability that a pain-point message also mentions a second topic
SECOND_TOPIC_SHARE = 0.30
#: of second topics, the share that is praise of support ("... but Maria was helpful")
SECOND_TOPIC_PRAISE_SHARE = 0.25

# ---------------------------------------------------------------- scores and the week-7 outage
#: share of CSAT 4-5 answers before the topic shift below, normally / in the outage week / the week after
CSAT_HIGH_SHARE = 0.88
OUTAGE_WEEK = 7
OUTAGE_CSAT_HIGH_SHARE = 0.61
PARTIAL_RECOVERY_WEEK = 8  # recovered fully from week 9
PARTIAL_RECOVERY_CSAT_HIGH_SHARE = 0.74
#: shift of the CSAT 4-5 probability for messages about a pain point / praise
CSAT_PAIN_SHIFT = -0.20
CSAT_PRAISE_SHIFT = 0.12
#: first-response time factor in the outage week and the week after
OUTAGE_RESPONSE_FACTOR = 2.0
PARTIAL_RECOVERY_RESPONSE_FACTOR = 1.4

# ---------------------------------------------------------------- tickets
#: median first-response time in hours (log-normal, sigma RESPONSE_SIGMA)
FIRST_RESPONSE_MEDIAN_HOURS = {"email": 3.0, "chat": 0.25}
RESPONSE_SIGMA = 0.6
#: median hours from first response to resolution, easy / hard topics (log-normal, sigma RESOLUTION_SIGMA)
RESOLUTION_MEDIAN_HOURS = {False: 5.0, True: 30.0}
RESOLUTION_SIGMA = 0.8
#: share of tickets never resolved within the export
UNRESOLVED_SHARE = 0.08
#: handle time in minutes: log-normal median, sigma, and clip range
HANDLE_MEDIAN_MINUTES = 14.0
HANDLE_SIGMA = 0.5
HANDLE_RANGE = (5.0, 40.0)
#: contacts to resolve: probabilities of 1, 2, 3, 4 contacts for easy / hard topics
CONTACTS_PROBS = {False: [0.85, 0.12, 0.03, 0.0], True: [0.15, 0.45, 0.28, 0.12]}

# ---------------------------------------------------------------- churn timing and intent
#: churn happens 1..CHURN_MAX_DELAY_DAYS days after the customer's last first-mention of a pain point
CHURN_MAX_DELAY_DAYS = 21
#: probability that a churned customer's last pain-point message says they are leaving
CHURN_INTENT_SHARE = 0.5
#: probability that a retained customer's pain-point message threatens to leave anyway
EMPTY_THREAT_SHARE = 0.03

# ---------------------------------------------------------------- text noise (shares of rows unless stated)
TYPO_ROW_SHARE = 0.12  # rows with typos
TYPO_WORD_SHARE = 0.05  # of words in those rows
SARCASM_SHARE = 0.08  # of pain-point rows
PII_SHARE = 0.02
HTML_SHARE = 0.06  # of email rows
HOSTILE_SHARE = 0.004
NON_ENGLISH_SHARE = 0.015  # of rows whose main topic has a translation
EMPTY_SURVEY_SHARE = 0.05  # of survey rows: the comment box left empty
LONG_SHARE = 0.004  # of email rows: a pasted log making the text longer than LONG_MIN_CHARS
LONG_MIN_CHARS = 3000
QUOTED_REPLY_SHARE = 0.20  # of email rows
SIGNATURE_SHARE = 0.45  # of email rows
IPHONE_SHARE = 0.10  # of email rows
GREETING_SHARE = 0.80  # of email rows

# ---------------------------------------------------------------- text material (written for this project)
PAIN_TEMPLATES: dict[str, list[str]] = {
    "login_password": [
        "I can't log in this morning, it keeps saying my password is wrong even after I reset it.",
        "The password reset email never arrives. I've checked the spam folder twice.",
        "Locked out of my account again. The 2FA code from my authenticator app is rejected every time.",
        "The two-factor code by SMS takes {mins} minutes to arrive and by then it has expired.",
        "Can't sign in on {browser}, the login page just reloads.",
        "The reset password link says 'token expired' as soon as I click it.",
        "Every time I log in I get asked for the 2FA code again, even on my own laptop. A bit annoying.",
        "Login loop: I enter my password and it sends me back to the sign-in screen.",
        "Not a big deal but the password reset email took {hours} hours to show up.",
        "How many times do I need to reset my password? The new password isn't accepted at login.",
        "My colleague can't log in with the invite link, it says the account does not exist.",
        "Sign in with Google stopped working, I had to use the password reset to get in.",
        "Couldn't log in for about an hour, the verification code never came through.",
        "The login screen says 'too many attempts' after one try. My password is definitely correct.",
        "Password reset emails go nowhere. My username is the same email address as always.",
        "I keep getting logged out every few minutes and have to type the 2FA code again.",
        "Lost my phone, so no 2FA code. How do I get back into my account?",
        "Minor thing: the 'forgot password' link is hard to find and the reset mail is slow.",
        "Sign-in is broken on {browser}, blank page after entering the authentication code.",
        "can't login. reset password mail not arriving. pls help",
        "Is the login down? My password stopped working and the reset email hasn't come.",
        "The 2FA code is always invalid on the first try, I have to request a new code.",
    ],
    "double_charge": [
        "I was charged twice for my {plan} subscription this month: two charges of {amount} on my card.",
        "There's a duplicate charge on my credit card statement, {amount} billed two times on the same day.",
        "You billed me twice for the same month. Please reverse the second charge.",
        "My bank shows two identical payments to Ledgerly of {amount}.",
        "Why was my card charged two times? I only have one account.",
        "Double charge again!! {amount} taken twice from my card.",
        "Got two receipts for the same billing period, both {amount}, and my card was debited twice.",
        "The upgrade to {plan} charged me twice, once for the old plan and once for the new one.",
        "Duplicate payment on my Visa. This is the second month in a row I've been double billed.",
        "I see a double charge for invoice {inv} on our company card.",
        "I've been billed twice for {month}. Not happy about it.",
        "Your billing system charged my card two times for one subscription. Please fix this.",
        "Two charges of {amount} hit my account yesterday. Only one should be there.",
        "We were double charged when we added a seat. The card statement shows the charge twice.",
        "Overcharged: the subscription fee was taken twice this billing cycle.",
        "Please check my billing, there's a duplicate transaction of {amount}.",
        "Charged twice AGAIN. My accountant is asking why we pay you double.",
        "The renewal went through twice, {amount} each. I want the duplicate charge reversed.",
    ],
    "data_loss": [
        "The sync deleted my invoices. {n} invoices are gone from my account.",
        "After the last sync, all my invoices from {month} disappeared.",
        "I lost data: client records and invoices vanished overnight.",
        "Invoices disappeared after I connected {bank}. Where did they go?",
        "Your sync wiped out {n} invoices, including {inv}. I have no backup.",
        "Half of my invoice history is missing since the sync yesterday.",
        "Data loss is unacceptable. I opened the app and {n} invoices were deleted.",
        "The bank sync overwrote my records and now my drafts are gone.",
        "My invoices vanished. These are my business records, I need them restored.",
        "The customer list and invoice {inv} disappeared after syncing between devices.",
        "All of my expense entries from last quarter were erased by the sync.",
        "A sync conflict deleted the latest version of my invoices; the old ones came back and the new ones are lost.",
        "Lost three months of bookkeeping. The invoices just vanished from the list.",
        "Please restore my deleted invoices, the sync removed them without asking.",
        "Something wiped my account: invoices, clients, everything gone.",
        "I can't trust the sync anymore, it already deleted my data twice.",
        "Invoice {inv} and {n} others are missing after the sync ran overnight.",
        "Where is my data? {n} paid invoices were erased when the sync finished.",
    ],
    "slow_performance": [
        "The app is so slow lately, every page takes forever to load.",
        "The dashboard lags for {secs} seconds before showing anything.",
        "Loading the invoice list takes ages. Is something wrong with your servers?",
        "Performance has been terrible this week, the spinner just keeps spinning.",
        "Everything is sluggish: the {page} takes {secs} seconds to open.",
        "Very slow to load reports, I often give up and close the tab.",
        "The web app freezes for several seconds whenever I click anything.",
        "Searching for a client takes {secs} seconds. It used to be instant.",
        "Pages load really slowly on {browser}, other sites are fine.",
        "Lag, lag, lag. The {page} is painfully slow.",
        "It's not unusable, but the slowness is getting annoying.",
        "Why is it so slow? Saving an invoice takes almost a minute.",
        "Timeouts on the {page} and very slow loading all afternoon.",
        "Response time is awful, the dashboard hangs before every chart loads.",
        "The app became slow after the last update, scrolling is choppy.",
        "Takes forever to load, I'm waiting more than working.",
        "The {page} loads at a snail's pace, {secs} seconds every time.",
    ],
    "refund_delay": [
        "I still haven't received my refund from {days} days ago.",
        "Still waiting for my refund of {amount}. You said 5 business days.",
        "Where is my refund? It's been {weeks} weeks.",
        "Refund not received. Support confirmed it was processed but nothing is on my card.",
        "I cancelled the add-on and was promised a refund, still nothing.",
        "Can someone give me an update on my refund? Reference {inv}.",
        "Refund pending for {days} days now. This is too long.",
        "You approved a refund of {amount} but the money never arrived.",
        "The refund I requested on the {ordinal} still hasn't shown up.",
        "Still no refund, and every time I ask I get a different answer.",
        "Please process my refund, I was told it would take a week and it's been {days} days.",
        "How long does a refund take? Mine is overdue.",
        "The money back for the unused months was promised but not refunded yet.",
        "Still waiting on the reimbursement of {amount}. Not happy.",
        "My refund request {inv} has been open for {weeks} weeks with no answer.",
        "No sign of the refund you promised. Please send it.",
    ],
    "export_broken": [
        "The CSV export fails with an error every time.",
        "The export button does nothing. I click it and nothing downloads.",
        "PDF export is broken since the last release.",
        "Exporting my invoices to {fmt} gives an empty file.",
        "Can't export reports to {fmt} anymore, it just spins and times out.",
        "The export to Excel produces a corrupted file.",
        "My accountant needs the {fmt} export and it keeps failing.",
        "Download as {fmt} stopped working this week.",
        "Export gives a 'something went wrong' error on the {page}.",
        "Bulk export of invoices is broken, the zip file is empty.",
        "The exported {fmt} file has missing columns and garbled characters.",
        "The export function does nothing on {browser}.",
        "Year-end export fails and I need it for my taxes.",
        "Clicking 'Export to {fmt}' shows a blank page.",
        "The exported {fmt} has only headers, no rows.",
        "Export is broken: the {fmt} download never starts.",
    ],
    "price_increase": [
        "The new pricing is too expensive for a freelancer like me.",
        "The price went up from {old_price} to {new_price} a month with no new features.",
        "Your price increase is ridiculous. {new_price} a month for basic invoicing?",
        "I got an email saying my plan price is going up. That's too much.",
        "Way too expensive now. The {plan} plan costs almost double.",
        "Not worth the new price, I only send a few invoices a month.",
        "Why did the subscription cost increase without warning?",
        "The price hike is hard to justify for a one-person business.",
        "{new_price} a month is more than I can afford.",
        "Cheaper alternatives exist, the new pricing doesn't make sense.",
        "The pricing change hit me hard, my bill went up {pct}%.",
        "I liked the app, but the new price is steep.",
        "Please bring back the old pricing, {old_price} was fair.",
        "The cost of the {plan} plan increased again. Too expensive.",
        "A {pct}% price increase in one go? Seriously expensive.",
    ],
    "mobile_crash": [
        "The mobile app crashes every time I try to scan a receipt on my {device}.",
        "The app crashes on my {device} when opening the camera to scan receipts. Terrible.",
        "Receipt scanning crashes the Android app instantly. Useless.",
        "The iPhone app keeps crashing and I lose the receipt photo every time.",
        "The mobile app force closes after the latest update on {os}.",
        "I can't scan receipts at all, the app crashes the moment I tap the camera.",
        "Your app crashed {n} times today on my {device}. Awful experience.",
        "Crash, crash, crash. The receipt scanner on Android is completely broken.",
        "Every time I photograph a receipt the app freezes and then closes.",
        "The mobile app is a disaster, it crashes whenever I scan a receipt.",
        "The app crashes on startup on my {device}, reinstalling didn't help.",
        "Scanning a receipt makes the app crash and the expense isn't saved.",
        "Horrible mobile app, it crashes on {os} every single time I try to add an expense.",
        "The phone app crashed mid-scan and I had to retype everything. Worst app ever.",
        "Receipt capture crashes the iPhone app. Absolutely infuriating.",
    ],
}
SARCASM_TEMPLATES: dict[str, list[str]] = {
    "login_password": [
        "Love spending my morning resetting my password three times. Really productive.",
        "Great, the 2FA code expired again. My favourite game.",
    ],
    "double_charge": [
        "Great, another double charge, just what I needed this month.",
        "Wow, billed twice for the same month. Truly innovative pricing.",
    ],
    "data_loss": [
        "Thanks for the sync that deleted my invoices. Who needs records anyway.",
        "Brilliant, my invoices disappeared right before tax season. Perfect timing.",
    ],
    "slow_performance": [
        "Love watching the loading spinner for {secs} seconds. Very relaxing.",
        "Great, the dashboard finally loaded. Only took a coffee break.",
    ],
    "refund_delay": [
        "Still waiting for my refund. I guess it's travelling by carrier pigeon.",
        "Amazing how fast you take payments and how slow the refund is.",
    ],
    "export_broken": [
        "Nice new export button. Pity it does absolutely nothing.",
        "Wonderful, the {fmt} export failed again. So reliable.",
    ],
    "price_increase": [
        "Oh good, a price increase. Exactly what a small business needs right now.",
        "Fantastic, paying more for the same app. Thanks a lot.",
    ],
    "mobile_crash": [
        "Love how the app crashes every time I scan a receipt. Really keeps me on my toes.",
        "Great update, now the app crashes even faster when I open the camera.",
    ],
}
PRAISE_TEMPLATES: dict[str, list[str]] = {
    "helpful_support": [
        "Agent {agent} was super helpful, solved it in minutes.",
        "Thanks to {agent} from support, quick and friendly.",
        "Your support team is amazing, {agent} fixed my problem right away.",
        "Great support experience, {agent} explained everything clearly.",
        "Really appreciate the fast reply from support today.",
        "{agent} went above and beyond to help me, thank you!",
        "Support was not bad at all, actually very quick.",
        "Customer service is excellent, I got an answer within {mins} minutes.",
        "The support chat was helpful and patient with me.",
        "Kudos to {agent}, super responsive and knowledgeable.",
        "I was frustrated but {agent} sorted it out quickly. Thank you.",
        "Best customer support I've dealt with in years.",
        "Thanks for the quick help, {agent} was lovely.",
        "The support agent {agent} was friendly and solved my issue on the first contact.",
        "Impressed by how fast support responded. Thanks {agent}!",
    ],
    "easy_invoicing": [
        "Love how easy it is to send invoices.",
        "The new dashboard is great, everything I need at a glance.",
        "Sending an invoice takes me less than a minute. Fantastic.",
        "Ledgerly made invoicing so simple, my clients pay faster now.",
        "Really easy to create professional looking invoices.",
        "The invoice templates are beautiful and easy to customise.",
        "Recurring invoices save me hours every month. Love it.",
        "Simple, clean and easy to use. Best invoicing tool I've tried.",
        "Not bad at all, invoicing is quick and painless.",
        "The payment reminders feature is brilliant, fewer late payments.",
        "Great app for small businesses, sending invoices is a breeze.",
        "I love the new dashboard and the way it shows unpaid invoices.",
        "Setting up my first invoice was effortless.",
        "Happy with {feature}, it works exactly as expected.",
        "Wonderful product, creating and sending invoices is so easy.",
    ],
}
SECOND_PRAISE_TEMPLATES = [
    "On the plus side, {agent} from support was very helpful.",
    "That said, the support agent {agent} was really kind and quick.",
    "To be fair, support answered fast and {agent} was helpful.",
]
HOW_TO_TEMPLATES = [
    "How do I add my logo to invoices?",
    "Is it possible to change the currency on an existing invoice?",
    "Where can I find the VAT settings?",
    "Can I add a second user to my account?",
    "How do I set up recurring invoices for a client?",
    "Does Ledgerly support multi-currency accounts?",
    "What's the difference between the {plan} plan and the others?",
    "How can I change the due date on invoice {inv}?",
    "Is there a way to add a discount line to an invoice?",
    "Can I connect {bank} to import transactions?",
    "How do I mark an invoice as partially paid?",
    "Where do I update my billing address?",
    "Is there an API for creating invoices?",
    "Can I customise the email that goes out with invoices?",
    "How do I archive old clients?",
]
GENERIC_TEMPLATES = [
    "Overall it does the job.",
    "Using it for {months} months now. It's ok.",
    "No complaints so far.",
    "Fine.",
    "Decent product, nothing special.",
    "It works for what I need.",
    "Average experience.",
    "Some things are good, some could be better.",
    "Would be nice to have more report options.",
    "n/a",
    "Nothing to add.",
    "It's alright. Does what it says.",
]
NON_ENGLISH_TEMPLATES: dict[str, dict[str, str]] = {
    "double_charge": {
        "es": "Me cobraron dos veces la suscripción este mes, {amount} duplicado en mi tarjeta.",
        "de": "Mir wurde das Abo doppelt abgebucht, zweimal {amount} auf meiner Kreditkarte.",
        "fr": "J'ai été débité deux fois pour mon abonnement, {amount} en double sur ma carte.",
    },
    "login_password": {
        "es": "No puedo iniciar sesión y el correo para restablecer la contraseña nunca llega.",
        "de": "Ich kann mich nicht anmelden, die E-Mail zum Zurücksetzen des Passworts kommt nie an.",
        "fr": "Impossible de me connecter, l'e-mail de réinitialisation du mot de passe n'arrive jamais.",
    },
    "data_loss": {
        "es": "La sincronización borró mis facturas, han desaparecido {n} facturas.",
        "de": "Die Synchronisierung hat meine Rechnungen gelöscht, {n} Rechnungen sind weg.",
        "fr": "La synchronisation a supprimé mes factures, {n} factures ont disparu.",
    },
    "slow_performance": {
        "es": "La aplicación va muy lenta, las páginas tardan una eternidad en cargar.",
        "de": "Die App ist extrem langsam, die Seiten laden ewig.",
        "fr": "L'application est très lente, les pages mettent une éternité à charger.",
    },
    "mobile_crash": {
        "es": "La aplicación móvil se cierra cada vez que escaneo un recibo.",
        "de": "Die App stürzt jedes Mal ab, wenn ich einen Beleg scanne.",
        "fr": "L'application mobile plante dès que je scanne un reçu.",
    },
    "helpful_support": {
        "es": "{agent} del equipo de soporte fue muy amable y lo resolvió en minutos.",
        "de": "{agent} vom Support war sehr hilfsbereit, das Problem war in Minuten gelöst.",
        "fr": "{agent} du support a été très serviable, problème résolu en quelques minutes.",
    },
    "easy_invoicing": {
        "es": "Me encanta lo fácil que es enviar facturas.",
        "de": "Rechnungen zu verschicken ist super einfach, tolles Programm.",
        "fr": "J'adore la facilité d'envoi des factures, super outil.",
    },
}
SUBJECTS: dict[str, list[str]] = {
    "login_password": ["Can't log in", "Password reset not working", "2FA problem"],
    "double_charge": ["Charged twice", "Duplicate charge", "Billing error"],
    "data_loss": ["URGENT: invoices missing", "Data lost after sync", "Invoices deleted"],
    "slow_performance": ["App very slow", "Performance issues", "Dashboard not loading"],
    "refund_delay": ["Refund status", "Where is my refund?", "Refund request"],
    "export_broken": ["Export not working", "CSV export error", "PDF export broken"],
    "price_increase": ["New pricing", "Price increase", "Subscription cost"],
    "mobile_crash": ["App crashing", "Receipt scanner crash", "Mobile app problem"],
    "helpful_support": ["Thank you!", "Thanks for the help"],
    "easy_invoicing": ["Feedback", "Loving Ledgerly"],
    "how_to": ["Question", "Quick question about invoices", "How to?"],
    "": ["Feedback", "Hello", "Account"],
}
CONNECTORS = ["Also, ", "On top of that, ", "And another thing: ", "Separately, ", "Plus, ", "Besides that, "]
CHURN_INTENT_SENTENCES = [
    "I'm cancelling my subscription.",
    "We are moving to another invoicing tool.",
    "Please close my account.",
    "This is the last straw, I'm cancelling today.",
    "I will be switching to a competitor.",
]
THREAT_SENTENCES = ["If this isn't fixed soon I'll cancel.", "Seriously considering leaving Ledgerly over this."]
GREETINGS = ["Hi team,", "Hello,", "Hi Ledgerly,", "Dear support,", "Hi there,", "Good morning,"]
CLOSINGS = ["Thanks,", "Regards,", "Cheers,", "Best,", "Thank you,", "Kind regards,"]
FIRST_NAMES = [
    "Jane",
    "Tom",
    "Aisha",
    "Luis",
    "Mei",
    "Olga",
    "Sam",
    "Priya",
    "Kwame",
    "Anna",
    "Ben",
    "Chloe",
    "Diego",
    "Fatima",
    "Hiro",
    "Ines",
    "Jonas",
    "Kara",
    "Liam",
    "Nora",
]
LAST_NAMES = [
    "Doe",
    "Smith",
    "Khan",
    "Garcia",
    "Chen",
    "Petrova",
    "Okafor",
    "Rossi",
    "Novak",
    "Silva",
    "Brown",
    "Muller",
    "Tanaka",
    "Dubois",
    "Larsen",
    "Nguyen",
]
COMPANIES = [
    "Acme Ltd",
    "Bright Studio",
    "Northwind Consulting",
    "Blue Fern Design",
    "Oak & Pine Builders",
    "Harbor Bakery",
    "Pixel Forge",
    "Greenleaf Landscaping",
    "Summit Accounting",
    "Red Kite Media",
]
AGENTS = ["Maria", "Tom", "Priya", "Ahmed", "Lena", "Carlos", "Yuki", "Grace"]
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge"]
DEVICES = ["iPhone 13", "iPhone 15", "Pixel 7", "Samsung Galaxy S23", "iPad", "OnePlus 11"]
OSES = ["iOS 17", "iOS 18", "Android 14", "Android 15"]
FORMATS = ["CSV", "PDF", "Excel"]
PAGES = ["dashboard", "invoice list", "reports page", "client list", "expenses page"]
BANKS = ["Chase", "Barclays", "Wells Fargo", "HSBC", "Revolut", "Monzo"]
FEATURES = ["recurring invoices", "payment reminders", "expense tracking", "the reports", "multi-currency"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
EMAIL_DOMAINS = ["gmail.com", "outlook.com", "acme.example", "brightstudio.example"]
TEST_CARDS = ["4111 1111 1111 1111", "5555 5555 5555 4444", "4012-8888-8888-1881"]
PII_SENTENCES = [
    "You can reach me at {email} if needed.",
    "Please call me back on {phone}.",
    "The card I used is {card}, exp 09/28.",
    "My email is {email} and my phone is {phone}.",
]
HOSTILE_STRINGS = [
    "<script>alert(1)</script>",
    '=HYPERLINK("http://evil.example","click")',
    "<img src=x onerror=alert(1)>",
    "'; DROP TABLE customers; --",
    "{{7*7}}",
]
LOG_LINE = "[{stamp}] ERROR web-{node}: request {req} failed with status 500 on /api/v2/{path} (retry {retry}/3)\n"
LOG_PATHS = ["invoices", "clients", "reports", "sync", "session", "exports"]


def _choice(rng: np.random.Generator, items: list[str]) -> str:
    return items[int(rng.integers(len(items)))]


class _Slots(dict):
    """Slot values for one text, drawn from the generator the first time a template asks for them."""

    def __init__(self, rng: np.random.Generator, plan: str) -> None:
        super().__init__()
        self._rng = rng
        self._plan = plan

    def __missing__(self, key: str) -> str:
        rng = self._rng
        first, last = _choice(rng, FIRST_NAMES), _choice(rng, LAST_NAMES)
        makers = {
            "amount": lambda: f"${int(rng.integers(9, 900))}.{int(rng.integers(100)):02d}",
            "inv": lambda: f"INV-{int(rng.integers(1000, 99999)):05d}",
            "n": lambda: str(int(rng.integers(2, 60))),
            "days": lambda: str(int(rng.integers(8, 45))),
            "weeks": lambda: str(int(rng.integers(2, 7))),
            "mins": lambda: str(int(rng.integers(2, 30))),
            "hours": lambda: str(int(rng.integers(2, 12))),
            "secs": lambda: str(int(rng.integers(10, 90))),
            "months": lambda: str(int(rng.integers(2, 36))),
            "pct": lambda: str(int(rng.integers(20, 80))),
            "old_price": lambda: f"${int(rng.integers(8, 20))}",
            "new_price": lambda: f"${int(rng.integers(22, 45))}",
            "ordinal": lambda: f"{int(rng.integers(1, 28))}th",
            "plan": lambda: self._plan,
            "agent": lambda: _choice(rng, AGENTS),
            "browser": lambda: _choice(rng, BROWSERS),
            "device": lambda: _choice(rng, DEVICES),
            "os": lambda: _choice(rng, OSES),
            "fmt": lambda: _choice(rng, FORMATS),
            "page": lambda: _choice(rng, PAGES),
            "bank": lambda: _choice(rng, BANKS),
            "feature": lambda: _choice(rng, FEATURES),
            "month": lambda: _choice(rng, MONTHS),
            "email": lambda: f"{first.lower()}.{last.lower()}@{_choice(rng, EMAIL_DOMAINS)}",
            "phone": lambda: f"+1 555 01{int(rng.integers(10, 100))} {int(rng.integers(1000, 10000))}",
            "card": lambda: _choice(rng, TEST_CARDS),
        }
        value = makers[key]()
        self[key] = value
        return value


def _lower_first(sentence: str) -> str:
    """Lower-case the first letter after a connector, unless it starts a name, 'I' or an acronym."""
    head = sentence.split(" ", 1)[0]
    if sentence.startswith("{") or head in ("I", "I'm", "I've", "Ledgerly") or head[1:2].isupper():
        return sentence
    return sentence[0].lower() + sentence[1:]


def _typos(text: str, rng: np.random.Generator) -> str:
    """Swap, drop or double a letter in a few words."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and word.isalpha() and rng.random() < TYPO_WORD_SHARE:
            j = int(rng.integers(1, len(word) - 1))
            kind = int(rng.integers(3))
            if kind == 0:
                word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
            elif kind == 1:
                word = word[:j] + word[j + 1 :]
            else:
                word = word[:j] + word[j] + word[j:]
            words[i] = word
    return " ".join(words)


@dataclass
class _Row:
    """One planned feedback message before it is written out."""

    customer: int
    seconds: int  # since the window start
    channel: str
    topics: list[str]
    text: str = ""
    subject: str = ""
    flags: tuple[str, ...] = ()


def _draw(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    keys = list(shares)
    probs = np.array([shares[k] for k in keys], float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=probs / probs.sum())]


def _pain_weights(week: int, segment: str) -> dict[str, float]:
    """Weight of each pain point as the main topic of a fresh message in this week and segment."""
    weights = {name: pp.weight for name, pp in PAIN_POINTS.items()}
    weights[CONFOUNDED_TOPIC] = CONFOUNDED_WEIGHTS[segment]
    weights["data_loss"] *= DATA_LOSS_SEGMENT_FACTOR[segment]
    if week < EMERGING_FROM_WEEK:
        weights[EMERGING_TOPIC] = 0.0
    return weights


def _fresh_topic(rng: np.random.Generator, week: int, segment: str) -> str:
    """Main topic of a message that is not a follow-up; "" for a generic comment."""
    weights = _pain_weights(week, segment)
    weights.update(PRAISE_WEIGHTS)
    weights["how_to"] = HOW_TO_WEIGHT
    names = list(weights)
    probs = np.array([weights[n] for n in names])
    pick = rng.random()
    cumulative = np.cumsum(probs)
    index = int(np.searchsorted(cumulative, pick, side="right"))
    return names[index] if index < len(names) else ""


def _second_pain(rng: np.random.Generator, week: int, segment: str, primary: str) -> str:
    """A second pain point for a message, drawn in proportion to the fresh-message weights."""
    weights = _pain_weights(week, segment)
    weights.pop(primary)
    names = list(weights)
    probs = np.array([weights[n] for n in names])
    return names[int(rng.choice(len(names), p=probs / probs.sum()))]


def _plan_customers(rng: np.random.Generator, n: int, window_days: int) -> pd.DataFrame:
    segment = _draw(rng, SEGMENT_SHARES, n)
    plan = np.empty(n, dtype=object)
    for name in SEGMENT_SHARES:
        in_segment = segment == name
        plan[in_segment] = _draw(rng, PLAN_SHARES[name], int(in_segment.sum()))
    seats = np.array([int(rng.integers(SEATS[s][0], SEATS[s][1] + 1)) for s in segment])
    revenue = np.array([PLAN_PRICE[p] for p in plan]) * seats
    cac = np.array([CAC_MEDIAN[s] for s in segment]) * np.exp(rng.normal(0.0, CAC_SIGMA, n))
    region = _draw(rng, REGION_SHARES, n)
    is_new = rng.random(n) < NEW_CUSTOMER_SHARE
    signup_day = np.where(
        is_new, rng.integers(0, max(window_days - DAYS_PER_WEEK, 1), n), -rng.integers(1, MAX_TENURE_DAYS, n)
    )
    return pd.DataFrame(
        {"segment": segment, "plan": plan, "revenue": revenue, "cac": cac, "region": region, "signup_day": signup_day}
    )


def _plan_rows(rng: np.random.Generator, customers: pd.DataFrame, weeks: int) -> list[_Row]:
    """Messages per customer in time order, with their planted topics."""
    window = weeks * DAYS_PER_WEEK * SECONDS_PER_DAY
    hour_p = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
    rows: list[_Row] = []
    for cid, (segment, signup_day) in enumerate(zip(customers["segment"], customers["signup_day"])):
        start = max(int(signup_day), 0) * SECONDS_PER_DAY
        active_weeks = (window - start) / (DAYS_PER_WEEK * SECONDS_PER_DAY)
        count = int(rng.poisson(MESSAGES_PER_CUSTOMER_WEEK * active_weeks))
        days = np.sort(rng.integers(start // SECONDS_PER_DAY, window // SECONDS_PER_DAY, count))
        seconds = np.sort(
            days * SECONDS_PER_DAY + rng.choice(24, count, p=hour_p) * 3600 + rng.integers(0, 3600, count)
        )
        channels = _draw(rng, CHANNEL_SHARES, count)
        open_pains: list[str] = []
        for sec, channel in zip(seconds, channels):
            week = int(sec) // (DAYS_PER_WEEK * SECONDS_PER_DAY) + 1
            if open_pains and rng.random() < FOLLOW_UP_SHARE:
                primary = open_pains[-1]
            else:
                primary = _fresh_topic(rng, week, segment)
            topics = [primary] if primary else []
            if primary in PAIN_POINTS and rng.random() < SECOND_TOPIC_SHARE:
                if rng.random() < SECOND_TOPIC_PRAISE_SHARE:
                    topics.append("helpful_support")
                else:
                    topics.append(_second_pain(rng, week, segment, primary))
            for topic in topics:
                if topic in PAIN_POINTS and topic not in open_pains:
                    open_pains.append(topic)
            rows.append(_Row(cid, int(sec), str(channel), topics))
    return rows


def _apply_churn(
    rng: np.random.Generator, customers: pd.DataFrame, rows: list[_Row], weeks: int
) -> tuple[list[_Row], set[int]]:
    """Decide churn from the planted multipliers, set churn_day, and drop messages sent after churning."""
    last_day = weeks * DAYS_PER_WEEK - 1
    first_mention: dict[int, dict[str, int]] = {}
    first_row: dict[int, int] = {}
    for row in rows:
        first_row.setdefault(row.customer, row.seconds)
        mentions = first_mention.setdefault(row.customer, {})
        for topic in row.topics:
            if topic in PAIN_POINTS:
                mentions.setdefault(topic, row.seconds)
    churned = np.zeros(len(customers), bool)
    churn_day = np.full(len(customers), -1)
    for cid, (segment, signup_day) in enumerate(zip(customers["segment"], customers["signup_day"])):
        mentions = first_mention.get(cid, {})
        probability = BASE_CHURN[segment]
        for topic in sorted(mentions):
            probability *= PAIN_POINTS[topic].churn_multiplier
        if rng.random() >= min(probability, CHURN_PROBABILITY_CAP):
            continue
        anchor = max(mentions.values()) if mentions else first_row.get(cid, max(int(signup_day), 0) * SECONDS_PER_DAY)
        anchor_day = anchor // SECONDS_PER_DAY
        churned[cid] = True
        churn_day[cid] = min(anchor_day + int(rng.integers(1, CHURN_MAX_DELAY_DAYS + 1)), last_day)
    customers["churned"] = churned
    customers["churn_day"] = churn_day
    kept = [r for r in rows if not churned[r.customer] or r.seconds < (churn_day[r.customer] + 1) * SECONDS_PER_DAY]
    return kept, {int(c) for c in np.flatnonzero(churned)}


def _quoted_reply(rng: np.random.Generator, created: datetime, first: str) -> str:
    sent = created - timedelta(days=int(rng.integers(1, 4)), minutes=int(rng.integers(0, 600)))
    header = (
        f"On {WEEKDAYS[sent.weekday()]}, {sent.day} {MONTH_ABBR[sent.month - 1]} {sent.year} at "
        f"{sent.hour:02d}:{sent.minute:02d}, Ledgerly Support <support@ledgerly.example> wrote:"
    )
    return (
        f"{header}\n> Hi {first},\n> Thanks for reaching out. We're looking into this and will get back to you"
        f" shortly.\n> Best,\n> {_choice(rng, AGENTS)}"
    )


def _long_log(rng: np.random.Generator, created: datetime) -> str:
    lines = ["Here is everything from the browser console, in case it helps:\n"]
    while sum(map(len, lines)) < LONG_MIN_CHARS + 200:
        stamp = (created - timedelta(seconds=int(rng.integers(0, 7200)))).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(
            LOG_LINE.format(
                stamp=stamp,
                node=int(rng.integers(1, 9)),
                req=f"{int(rng.integers(16**8)):08x}",
                path=_choice(rng, LOG_PATHS),
                retry=int(rng.integers(1, 4)),
            )
        )
    return "".join(lines).rstrip("\n")


def _render(rng: np.random.Generator, row: _Row, created: datetime, plan: str, leaving: bool, threat: bool) -> None:
    """Write the text (and subject) of one message from its topics, its channel and the noise shares."""
    slots = _Slots(rng, plan)
    flags: list[str] = []
    primary = row.topics[0] if row.topics else ""
    if row.channel == "survey" and rng.random() < EMPTY_SURVEY_SHARE:
        row.topics, row.flags = [], ("empty",)
        return
    if primary in NON_ENGLISH_TEMPLATES and rng.random() < NON_ENGLISH_SHARE:
        language = _choice(rng, ["es", "de", "fr"])
        row.topics = [primary]
        row.text = NON_ENGLISH_TEMPLATES[primary][language].format_map(slots)
        row.flags = (f"non_english:{language}",)
        return
    sentences: list[str] = []
    for i, topic in enumerate(row.topics):
        if topic in PAIN_POINTS:
            if i == 0 and rng.random() < SARCASM_SHARE:
                template = _choice(rng, SARCASM_TEMPLATES[topic])
                flags.append("sarcasm")
            else:
                template = _choice(rng, PAIN_TEMPLATES[topic])
        elif topic in PRAISE_TEMPLATES:
            template = _choice(rng, PRAISE_TEMPLATES[topic] if i == 0 else SECOND_PRAISE_TEMPLATES)
        else:
            template = _choice(rng, HOW_TO_TEMPLATES)
        sentence = template.format_map(slots)
        if i > 0 and topic in PAIN_POINTS:
            sentence = _choice(rng, CONNECTORS) + _lower_first(sentence)
        sentences.append(sentence)
    if not sentences:
        sentences.append(_choice(rng, GENERIC_TEMPLATES).format_map(slots))
    if leaving:
        sentences.append(_choice(rng, CHURN_INTENT_SENTENCES))
        flags.append("churn_intent")
    elif threat:
        sentences.append(_choice(rng, THREAT_SENTENCES))
        flags.append("threat")
    body = " ".join(sentences)
    if rng.random() < TYPO_ROW_SHARE:
        body = _typos(body, rng)
        flags.append("typo")
    if rng.random() < PII_SHARE:
        body += " " + _choice(rng, PII_SENTENCES).format_map(slots)
        flags.append("pii")
    paragraphs = [body]
    if row.channel == "email":
        first, last = _choice(rng, FIRST_NAMES), _choice(rng, LAST_NAMES)
        if rng.random() < GREETING_SHARE:
            paragraphs.insert(0, _choice(rng, GREETINGS))
        if rng.random() < LONG_SHARE:
            paragraphs.append(_long_log(rng, created))
            flags.append("long")
        paragraphs.append(f"{_choice(rng, CLOSINGS)}\n{first}")
        if rng.random() < SIGNATURE_SHARE:
            paragraphs[-1] = (
                f"{_choice(rng, CLOSINGS)}\n--\n{first} {last}\n{_choice(rng, COMPANIES)}\n"
                f"+1 555 01{int(rng.integers(10, 100))}"
            )
            flags.append("signature")
        if rng.random() < IPHONE_SHARE:
            paragraphs.append("Sent from my iPhone")
        if rng.random() < QUOTED_REPLY_SHARE:
            paragraphs.append(_quoted_reply(rng, created, first))
            flags.append("quoted")
        subject = _choice(rng, SUBJECTS.get(primary, SUBJECTS[""]))
        row.subject = ("Re: " if "quoted" in flags else "") + subject
    elif row.channel == "social":
        paragraphs = [f"@Ledgerly {body}"]
    if rng.random() < HOSTILE_SHARE:
        paragraphs.insert(int(rng.integers(2)) * len(paragraphs), _choice(rng, HOSTILE_STRINGS))
        flags.append("hostile")
    text = "\n\n".join(paragraphs)
    if row.channel == "email" and rng.random() < HTML_SHARE:
        text = "<html><body><p>" + "</p><p>".join(p.replace("\n", "<br>") for p in paragraphs) + "</p></body></html>"
        flags.append("html")
    row.text, row.flags = text, tuple(flags)


def _csat_high_share(week: int) -> float:
    if week == OUTAGE_WEEK:
        return OUTAGE_CSAT_HIGH_SHARE
    if week == PARTIAL_RECOVERY_WEEK:
        return PARTIAL_RECOVERY_CSAT_HIGH_SHARE
    return CSAT_HIGH_SHARE


def _response_factor(week: int) -> float:
    if week == OUTAGE_WEEK:
        return OUTAGE_RESPONSE_FACTOR
    if week == PARTIAL_RECOVERY_WEEK:
        return PARTIAL_RECOVERY_RESPONSE_FACTOR
    return 1.0


def _scores(rng: np.random.Generator, row: _Row, week: int) -> tuple[str, str, str]:
    """CSAT, NPS and CES as text ("" when absent) for one message."""
    survey = row.channel == "survey"
    if not survey and not (row.channel in ("email", "chat") and rng.random() < POST_TICKET_CSAT_SHARE):
        return "", "", ""
    share = _csat_high_share(week)
    if any(t in PAIN_POINTS for t in row.topics):
        share += CSAT_PAIN_SHIFT
    elif any(t in PRAISE_TEMPLATES for t in row.topics):
        share += CSAT_PRAISE_SHIFT
    if rng.random() < min(max(share, 0.0), 1.0):
        csat = 5 if rng.random() < 0.55 else 4
    else:
        csat = int(rng.choice([1, 2, 3], p=[0.3, 0.3, 0.4]))
    if not survey:
        return f"{csat}.0", "", ""
    nps_range = {5: (8, 10), 4: (7, 9), 3: (5, 8), 2: (2, 6), 1: (0, 4)}[csat]
    ces_range = {5: (1, 2), 4: (2, 3), 3: (3, 5), 2: (4, 6), 1: (5, 7)}[csat]
    nps = int(rng.integers(nps_range[0], nps_range[1] + 1))
    ces = int(rng.integers(ces_range[0], ces_range[1] + 1))
    nps_text = "" if rng.random() < SURVEY_NPS_MISSING else f"{nps}.0"
    ces_text = "" if rng.random() < SURVEY_CES_MISSING else f"{ces}.0"
    return f"{csat}.0", nps_text, ces_text


def _ticket(rng: np.random.Generator, row: _Row, opened: datetime, week: int) -> dict[str, str]:
    hard = any(PAIN_POINTS[t].hard for t in row.topics if t in PAIN_POINTS)
    response_h = (
        FIRST_RESPONSE_MEDIAN_HOURS[row.channel] * np.exp(rng.normal(0, RESPONSE_SIGMA)) * _response_factor(week)
    )
    first_response = opened + timedelta(seconds=int(response_h * 3600))
    contacts = int(rng.choice(4, p=CONTACTS_PROBS[hard])) + 1
    resolve_h = RESOLUTION_MEDIAN_HOURS[hard] * np.exp(rng.normal(0, RESOLUTION_SIGMA)) * contacts
    unresolved = rng.random() < UNRESOLVED_SHARE
    handle = float(
        np.clip(HANDLE_MEDIAN_MINUTES * np.exp(rng.normal(0, HANDLE_SIGMA)) * (1.5 if hard else 1.0), *HANDLE_RANGE)
    )
    resolved = (
        "" if unresolved else (first_response + timedelta(seconds=int(resolve_h * 3600))).strftime("%Y-%m-%d %H:%M:%S")
    )
    return {
        "channel": row.channel,
        "opened_at": opened.strftime("%Y-%m-%d %H:%M:%S"),
        "first_response_at": first_response.strftime("%Y-%m-%d %H:%M:%S"),
        "resolved_at": resolved,
        "handle_time_minutes": f"{handle:.1f}",
        "contacts_to_resolve": str(contacts),
    }


def _write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def generate_sample(
    out_dir: str | Path, customers: int = 2000, weeks: int = 12, seed: int = 42, start: str = "2026-07-06"
) -> dict[str, int]:
    """Write Ledgerly sample data with planted truth to ``out_dir``; return the row count of each file written.

    Files: ``feedback.csv``, ``customers.csv``, ``tickets.csv`` (tables of the README's Data model) and ``truth.csv``
    (``feedback_id``, ``topics`` ";"-joined planted topics, "" for none, ``noise`` ";"-joined noise flags such as pii,
    html, sarcasm).
    ``start`` is the first day of week 1 (a Monday keeps weeks aligned with ISO weeks).
    """
    if customers < 1 or weeks < 1:
        raise ConfigError(
            f"--customers {customers} --weeks {weeks}: the sample needs at least one customer and one "
            f"week; fix: use the defaults (2000 customers, 12 weeks): the planted outage (week "
            f"{OUTAGE_WEEK}) and emerging theme (from week {EMERGING_FROM_WEEK}) need {EMERGING_FROM_WEEK + 1}+ weeks"
        )
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    origin = datetime.fromisoformat(start)
    cust = _plan_customers(rng, customers, weeks * DAYS_PER_WEEK)
    rows = _plan_rows(rng, cust, weeks)
    rows, churned = _apply_churn(rng, cust, rows, weeks)
    rows.sort(key=lambda r: (r.seconds, r.customer))

    plans = cust["plan"].tolist()
    last_pain_row = {r.customer: i for i, r in enumerate(rows) if any(t in PAIN_POINTS for t in r.topics)}
    feedback, truth, tickets = [], [], []
    for i, row in enumerate(rows):
        created = origin + timedelta(seconds=row.seconds)
        week = row.seconds // (DAYS_PER_WEEK * SECONDS_PER_DAY) + 1
        leaving = row.customer in churned and last_pain_row.get(row.customer) == i and rng.random() < CHURN_INTENT_SHARE
        threat = (
            not leaving
            and row.customer not in churned
            and any(t in PAIN_POINTS for t in row.topics)
            and rng.random() < EMPTY_THREAT_SHARE
        )
        _render(rng, row, created, plans[row.customer], leaving, threat)
        csat, nps, ces = _scores(rng, row, week)
        feedback_id, customer_id = f"F{i + 1:06d}", f"C{row.customer + 1:05d}"
        ticket_id = ""
        if row.channel in ("email", "chat"):
            ticket_id = f"T{len(tickets) + 1:06d}"
            tickets.append({"ticket_id": ticket_id, "customer_id": customer_id, **_ticket(rng, row, created, week)})
        feedback.append(
            {
                "feedback_id": feedback_id,
                "customer_id": customer_id,
                "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
                "channel": row.channel,
                "text": row.text,
                "csat": csat,
                "nps": nps,
                "ces": ces,
                "ticket_id": ticket_id,
                "subject": row.subject,
            }
        )
        truth.append({"feedback_id": feedback_id, "topics": ";".join(row.topics), "noise": ";".join(row.flags)})

    customers_out = pd.DataFrame(
        {
            "customer_id": [f"C{i + 1:05d}" for i in range(customers)],
            "segment": cust["segment"],
            "plan": cust["plan"],
            "signup_date": [(origin + timedelta(days=int(d))).strftime("%Y-%m-%d") for d in cust["signup_day"]],
            "churned": np.where(cust["churned"], "true", "false"),
            "churn_date": [
                (origin + timedelta(days=int(d))).strftime("%Y-%m-%d") if c else ""
                for d, c in zip(cust["churn_day"], cust["churned"])
            ],
            "monthly_revenue": [f"{v:.2f}" for v in cust["revenue"]],
            "acquisition_cost": [f"{v:.2f}" for v in cust["cac"]],
            "region": cust["region"],
        }
    )
    ticket_columns = [
        "ticket_id",
        "customer_id",
        "channel",
        "opened_at",
        "first_response_at",
        "resolved_at",
        "handle_time_minutes",
        "contacts_to_resolve",
    ]
    frames = {
        "feedback.csv": pd.DataFrame(
            feedback,
            columns=[
                "feedback_id",
                "customer_id",
                "created_at",
                "channel",
                "text",
                "csat",
                "nps",
                "ces",
                "ticket_id",
                "subject",
            ],
        ),
        "customers.csv": customers_out,
        "tickets.csv": pd.DataFrame(tickets, columns=ticket_columns),
        "truth.csv": pd.DataFrame(truth, columns=["feedback_id", "topics", "noise"]),
    }
    for name, frame in frames.items():
        _write(frame, out / name)
    return {name: len(frame) for name, frame in frames.items()}
