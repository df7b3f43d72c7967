package khipuv3_test

import (
	"time"

	"github.com/khipu-go/khipu"
	"github.com/khipu-go/khipu/khipuv3"
)

// subscriptionID is a subscription id as Khipu makes them: a UUID.
const subscriptionID = "13a0f1aa-5e47-4894-aa8b-282dd19593ec"

// minimalPayment is a payment with only what Khipu requires.
func minimalPayment() *khipuv3.PaymentCreateParams {
	return &khipuv3.PaymentCreateParams{Subject: "Order 1001", Currency: "CLP", Amount: khipu.NewAmount(1000)}
}

func predictParams() *khipuv3.PredictParams {
	return &khipuv3.PredictParams{
		PayerEmail: "ana+pagos@example.com", BankID: "SDdGj", Amount: khipu.MustParseAmount("50000.5"), Currency: "USD",
	}
}

func receiverParams() *khipuv3.ReceiverCreateParams {
	return &khipuv3.ReceiverCreateParams{
		AdminFirstName: "Ana", AdminLastName: "Pérez", AdminEmail: "ana@example.com",
		CountryCode: "CL", BusinessIdentifier: "76.123.456-7", BusinessCategory: "retail",
		BusinessName: "Tienda Ñuñoa", BusinessPhone: "+56 2 2345 6789",
		BusinessAddressLine1: "Av. Irarrázaval 123", BusinessAddressLine2: "Ñuñoa", BusinessAddressLine3: "Santiago",
		ContactFullName: "Ana Pérez", ContactJobTitle: "Owner", ContactEmail: "ana@example.com", ContactPhone: "+56 9 1234 5678",
		NotifyURL: "https://platform.example/khipu",
	}
}

func subscriptionParams() *khipuv3.SubscriptionCreateParams {
	return &khipuv3.SubscriptionCreateParams{
		Name:      "Plan mensual",
		Email:     "ana@example.com",
		MaxAmount: khipu.NewAmount(50000),
		Currency:  "CLP",
		NotifyURL: "https://shop.example/khipu/subscription",
		ReturnURL: "https://shop.example/subscribed",
		CancelURL: "https://shop.example/cancelled",
	}
}

func chargeParams() *khipuv3.ChargeCreateParams {
	return &khipuv3.ChargeCreateParams{
		SubscriptionID:   subscriptionID,
		Amount:           khipu.MustParseAmount("19990"),
		Subject:          "Plan mensual, marzo",
		Body:             "Cargo mensual del plan",
		ErrorResponseURL: "https://shop.example/khipu/charge-error",
		Custom:           `{"plan":"mensual"}`,
		TransactionID:    "charge-2026-03",
		NotifyURL:        "https://shop.example/khipu/notify",
	}
}

// fullPayment sets every field of PaymentCreateParams: strings that need
// escaping, dates, booleans, amounts with decimals and an integrator fee.
func fullPayment() *khipuv3.PaymentCreateParams {
	return &khipuv3.PaymentCreateParams{
		Subject:                      "Pedido 1037 — mochila ñandú & <co>",
		Currency:                     "USD",
		Amount:                       khipu.MustParseAmount("19.99"),
		TransactionID:                "ORD-1037",
		Custom:                       `<cart a="1">~*!+ %20</cart>`,
		Body:                         "Mochila de 30 litros\nColor: azul",
		BankID:                       "SDdGj",
		ReturnURL:                    "https://shop.example/return?order=1037&x=a b",
		CancelURL:                    "https://shop.example/cancel",
		PictureURL:                   "https://shop.example/mochila.png",
		NotifyURL:                    "https://shop.example/khipu/notify",
		ContractURL:                  "https://shop.example/contract.pdf",
		ExpiresDate:                  time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		SendEmail:                    true,
		PayerName:                    "Ana Pérez",
		PayerEmail:                   "ana@example.com",
		SendReminders:                true,
		ResponsibleUserEmail:         "sales@shop.example",
		FixedPayerPersonalIdentifier: "11.111.111-1",
		IntegratorFee:                khipu.MustParseAmount("0.50"),
		CollectAccountUUID:           "9c1f0a5e-3b7d-4e21-8f6a-2d4c8b9e0f13",
		ConfirmTimeoutDate:           time.Date(2030, 1, 3, 0, 0, 0, 0, time.FixedZone("CLT", -3*3600)),
		MandatoryPaymentMethod:       "simplified_transfer",
		PSPClientMerchantName:        "Tienda Ñuñoa",
	}
}
